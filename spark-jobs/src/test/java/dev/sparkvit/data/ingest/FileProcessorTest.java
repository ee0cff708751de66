package dev.sparkvit.data.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.image.RejectReason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileProcessorTest {

    private static FileProcessor processor(long maxFileBytes) {
        IngestSettings d = IngestSettings.defaults("-", "-");
        return new FileProcessor(new HadoopConf(new Configuration()), new IngestSettings(d.input(), d.output(), true,
                16, d.minSize(), d.maxPixels(), maxFileBytes, d.shards(), d.trainFraction(), d.valFraction(), false),
                Set.of());
    }

    @Test
    void aFileIsReadWholeWhateverLengthTheListingGaveAndTheLimitStillHolds(@TempDir Path dir) throws IOException {
        new SyntheticImageFolder(24, 1, 3).writeTo(dir);
        Path file = dir.resolve("disc/disc_00000.png");
        long size = Files.size(file);
        String path = file.toUri().toString();
        FileProcessor.Outcome listed = processor(1 << 20).process(path, size);
        assertNull(listed.reason(), listed.detail());
        assertEquals(FileProcessor.sha256(Files.readAllBytes(file)), listed.hash());
        for (long stale : new long[] {0, 10, size - 1, size + 100}) { // the file changed after the listing
            FileProcessor.Outcome o = processor(1 << 20).process(path, stale);
            assertEquals(listed.hash(), o.hash(), "listed as " + stale + " bytes");
            assertNull(o.reason(), o.detail());
        }
        FileProcessor.Outcome grown = processor(size - 1).process(path, 10);
        assertEquals(RejectReason.UNREADABLE, grown.reason());
        assertTrue(grown.detail().contains("grew beyond"), grown.detail());
    }
}
