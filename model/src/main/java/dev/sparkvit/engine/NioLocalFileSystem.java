package dev.sparkvit.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsAction;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * Hadoop's local file system ({@code file:} paths) with permissions set through {@code java.nio} instead of a
 * {@code chmod} child process. Without Hadoop's native library, which Spark's distribution does not ship,
 * {@link RawLocalFileSystem#setPermission} forks {@code chmod} for every file it creates and every folder it makes:
 * about 4 ms of wall time each, 23 times in one ingest (bench/notes/data.md, 2026-12-05). Permissions with the sticky
 * bit, and file systems without POSIX permissions, still go to Hadoop's own code.
 *
 * <p>{@link #install} makes it the {@code file:} implementation of every Hadoop configuration in this JVM (a default
 * resource, so configurations made before it are covered as well): the CLI's and {@link SparkSessions}' JVM, which in
 * local mode runs the executors too. Cluster executors keep Hadoop's own class: whether their Hadoop configuration
 * can load a class from the application's jar depends on the cluster manager, and on a cluster the data lives on
 * HDFS or S3A, which have no chmod to save. Setting {@code fs.file.impl} yourself ({@code spark.hadoop.fs.file.impl},
 * or {@code Configuration.set}) wins; a {@code core-site.xml} value does not, since default resources added later
 * override earlier ones.
 */
public class NioLocalFileSystem extends LocalFileSystem {
    /** The class path resource that sets {@code fs.file.impl} to this class. */
    static final String RESOURCE = "sparkvit-hadoop-defaults.xml";

    public NioLocalFileSystem() {
        super(new Raw());
    }

    /** Registers {@link #RESOURCE} as a Hadoop default resource (idempotent). */
    public static void install() {
        Configuration.addDefaultResource(RESOURCE);
    }

    /** The raw file system underneath (checksums are added by {@link LocalFileSystem}). */
    static final class Raw extends RawLocalFileSystem {
        @Override
        public void setPermission(Path p, FsPermission permission) throws IOException {
            java.nio.file.Path file = pathToFile(p).toPath();
            if (permission.getStickyBit() || !Files.getFileStore(file).supportsFileAttributeView("posix")) {
                super.setPermission(p, permission);
                return;
            }
            Files.setPosixFilePermissions(file, posix(permission));
        }

        static Set<PosixFilePermission> posix(FsPermission permission) {
            Set<PosixFilePermission> bits = EnumSet.noneOf(PosixFilePermission.class);
            add(bits, permission.getUserAction(), PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                    PosixFilePermission.OWNER_EXECUTE);
            add(bits, permission.getGroupAction(), PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
                    PosixFilePermission.GROUP_EXECUTE);
            add(bits, permission.getOtherAction(), PosixFilePermission.OTHERS_READ,
                    PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);
            return bits;
        }

        private static void add(Set<PosixFilePermission> bits, FsAction action, PosixFilePermission read,
                PosixFilePermission write, PosixFilePermission execute) {
            if (action.implies(FsAction.READ)) {
                bits.add(read);
            }
            if (action.implies(FsAction.WRITE)) {
                bits.add(write);
            }
            if (action.implies(FsAction.EXECUTE)) {
                bits.add(execute);
            }
        }
    }
}
