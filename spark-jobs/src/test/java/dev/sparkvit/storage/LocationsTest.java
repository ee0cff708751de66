package dev.sparkvit.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

/** Which paths are local, as Spark's readers and writers would take them. */
class LocationsTest {
    private static Configuration defaultFs(String uri) {
        Configuration conf = new Configuration(false);
        conf.set("fs.defaultFS", uri);
        return conf;
    }

    @Test
    void aSchemeDecidesWhenThereIsOne() {
        Configuration local = defaultFs("file:///");
        Configuration hdfs = defaultFs("hdfs://nn:8020");
        for (Configuration conf : new Configuration[] {local, hdfs}) {
            assertTrue(Locations.isRemote("hdfs://nn:8020/ds", conf));
            assertTrue(Locations.isRemote("s3a://bucket/ds", conf));
            assertFalse(Locations.isRemote("file:/data/ds", conf));
            assertFalse(Locations.isRemote("file:///data/ds", conf));
        }
    }

    /** On a cluster whose core-site.xml names HDFS, /user/me/ds is on HDFS, as spark.read takes it. */
    @Test
    void withoutASchemeTheDefaultFileSystemDecides() {
        assertFalse(Locations.isRemote("/data/ds", defaultFs("file:///")));
        assertFalse(Locations.isRemote("out/pretrain", defaultFs("file:///")));
        assertTrue(Locations.isRemote("/user/me/ds", defaultFs("hdfs://nn:8020")));
        assertTrue(Locations.isRemote("out/pretrain", defaultFs("hdfs://nn:8020")));
        assertFalse(Locations.isRemote("my:folder", defaultFs("file:///")), "a colon alone is no scheme");
    }

    @Test
    void localPathsAndNames() {
        assertEquals(Path.of("/data/ds"), Locations.local("file:/data/ds"));
        assertEquals(Path.of("/data/ds"), Locations.local("file:///data/ds"));
        assertNull(Locations.local("hdfs://nn:8020/ds"));
        assertEquals("hdfs://nn:8020/ds", Locations.absolute("hdfs://nn:8020/ds"));
        assertEquals(Path.of("rel").toAbsolutePath().toString(), Locations.absolute("rel"));
        assertEquals("s3a://b/run/weights", Locations.resolve("s3a://b/run/", "weights"));
    }
}
