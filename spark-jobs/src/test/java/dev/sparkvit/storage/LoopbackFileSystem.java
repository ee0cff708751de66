package dev.sparkvit.storage;

import java.net.URI;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * The local disk under another scheme ({@code loopback:///tmp/x}): a Hadoop file system that is not {@code file:}, so
 * that code taking the remote road (RunFolder's working copy and publishing, LocalCopies' downloads) runs in unit
 * tests through Hadoop's FileSystem API. Registered for the tests by
 * {@code META-INF/services/org.apache.hadoop.fs.FileSystem}. Real HDFS and S3 are exercised by
 * {@code make cluster-test}.
 */
public class LoopbackFileSystem extends RawLocalFileSystem {
    public static final String SCHEME = "loopback";

    @Override
    public URI getUri() {
        return URI.create(SCHEME + ":///");
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }

    /** A configuration in which {@code loopback:} paths reach this class. */
    public static org.apache.hadoop.conf.Configuration conf() {
        org.apache.hadoop.conf.Configuration conf = new org.apache.hadoop.conf.Configuration();
        conf.set("fs." + SCHEME + ".impl", LoopbackFileSystem.class.getName());
        conf.setBoolean("fs." + SCHEME + ".impl.disable.cache", true);
        return conf;
    }
}
