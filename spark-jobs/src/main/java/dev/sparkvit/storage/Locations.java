package dev.sparkvit.storage;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/**
 * A path as a user gives it: local ({@code /data/ds}, {@code data/ds}, {@code file:/data/ds}) or a Hadoop URI with
 * another scheme ({@code hdfs://nn:8020/ds}, {@code s3a://bucket/ds}). Remote ones are kept exactly as written.
 */
public final class Locations {
    private Locations() {
    }

    /**
     * Object stores whose folders can be locked by write, settle, verify (the lock package's FolderLock, for a subject
     * that allows it): S3 through S3A, strongly consistent (read-after-write, list-after-write) since December 2020,
     * a PUT replacing an object atomically. Google Cloud Storage and Azure are not listed: not verified with sparkvit.
     */
    public static final java.util.List<String> OBJECT_STORE_SCHEMES = java.util.List.of("s3a");

    /**
     * Whether {@code location} names another file system than the local one: a scheme other than {@code file}, or no
     * scheme while the cluster's default file system ({@code fs.defaultFS} of {@link #hadoop()}) is not the local
     * one. A path without a scheme means what it means to Spark's readers and writers: on a YARN cluster whose
     * {@code core-site.xml} names HDFS, {@code /user/me/ds} is on HDFS.
     */
    public static boolean isRemote(String location) {
        String scheme = scheme(location);
        return scheme != null ? !scheme.equalsIgnoreCase("file") : !defaultIsLocal();
    }

    /** {@link #isRemote(String)} under {@code conf}'s default file system. */
    static boolean isRemote(String location, Configuration conf) {
        String scheme = scheme(location);
        return scheme != null ? !scheme.equalsIgnoreCase("file") : !isLocal(conf);
    }

    /** The scheme {@code location} names ({@code hdfs://...}, {@code file:...}), or null. */
    private static String scheme(String location) {
        int colon = location.indexOf(':');
        if (colon <= 0 || !location.substring(0, colon).matches("[A-Za-z][A-Za-z0-9+.-]*")) {
            return null;
        }
        String scheme = location.substring(0, colon);
        return location.startsWith("://", colon) || scheme.equalsIgnoreCase("file") ? scheme : null;
    }

    private static volatile Boolean defaultLocalBeforeSpark;

    private static boolean defaultIsLocal() {
        scala.Option<org.apache.spark.SparkContext> active = org.apache.spark.SparkContext$.MODULE$.getActive();
        if (active.isDefined()) {
            return isLocal(active.get().hadoopConfiguration());
        }
        Boolean local = defaultLocalBeforeSpark; // the class path's core-site.xml and spark.hadoop.* do not change
        if (local == null) {
            local = isLocal(hadoop());
            defaultLocalBeforeSpark = local;
        }
        return local;
    }

    private static boolean isLocal(Configuration conf) {
        String scheme = org.apache.hadoop.fs.FileSystem.getDefaultUri(conf).getScheme();
        return scheme == null || scheme.equalsIgnoreCase("file");
    }

    /**
     * The local path {@code location} names, or null when it is remote.
     *
     * @throws IllegalArgumentException when it is no valid local path (the message says why)
     */
    public static Path local(String location) {
        if (isRemote(location)) {
            return null;
        }
        try {
            if (location.regionMatches(true, 0, "file:", 0, 5)) {
                return Path.of(new URI(location.startsWith("file://") ? location : "file://" + location.substring(5)));
            }
            return Path.of(location);
        } catch (URISyntaxException | IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /**
     * {@code location} made independent of the working directory: a local path absolute and normalised (a {@code file:}
     * URI as a {@code file:///} URI), a remote URI unchanged.
     */
    public static String absolute(String location) {
        Path local = local(location);
        if (local == null) {
            return location;
        }
        String path = local.toAbsolutePath().normalize().toString();
        // a file: URI stays one: as a bare path it would be on the default file system (HDFS on a YARN cluster)
        return location.regionMatches(true, 0, "file:", 0, 5) ? local.toAbsolutePath().normalize().toUri().toString()
                : path;
    }

    /** {@code child} (a relative path with '/') inside the folder {@code location}, in the same form. */
    public static String resolve(String location, String child) {
        return location.replaceAll("/+$", "") + "/" + child;
    }

    /**
     * The Hadoop configuration of the running SparkContext; before (or without) one, what it would be: the defaults
     * and {@code core-site.xml} / {@code hdfs-site.xml} of the class path (spark-submit puts {@code HADOOP_CONF_DIR}
     * there) and every {@code spark.hadoop.*} setting spark-submit passed as a system property, as Spark adds them.
     */
    public static Configuration hadoop() {
        scala.Option<org.apache.spark.SparkContext> active = org.apache.spark.SparkContext$.MODULE$.getActive();
        if (active.isDefined()) {
            return active.get().hadoopConfiguration();
        }
        Configuration conf = new Configuration();
        for (Map.Entry<Object, Object> e : System.getProperties().entrySet()) {
            String key = String.valueOf(e.getKey());
            if (key.startsWith("spark.hadoop.")) {
                conf.set(key.substring("spark.hadoop.".length()), String.valueOf(e.getValue()));
            }
        }
        return conf;
    }
}
