package dev.sparkvit.storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;

/**
 * Local files for input paths that may be remote (weights, class lists): a local path is itself; a remote file is
 * downloaded once per JVM into a temporary folder that is deleted when the JVM exits. Readers that map or seek the
 * file (safetensors) then need no Hadoop stream.
 */
public final class LocalCopies {
    private static final Map<String, Path> COPIES = new ConcurrentHashMap<>();

    private LocalCopies() {
    }

    /**
     * The local file or folder for {@code location} (a remote folder is copied with all it holds).
     *
     * @throws IllegalArgumentException naming {@code what} and the location when a remote one does not exist or
     *     cannot be read (a local one is returned as is: the reader checks it and names it)
     */
    public static Path of(String what, String location) {
        Path local = Locations.local(location);
        if (local != null) {
            return local;
        }
        return COPIES.computeIfAbsent(location, l -> download(what, l, Locations.hadoop()));
    }

    private static void copy(FileSystem fs, org.apache.hadoop.fs.FileStatus status, Path target) throws IOException {
        if (status.isDirectory()) {
            Files.createDirectories(target);
            for (org.apache.hadoop.fs.FileStatus child : fs.listStatus(status.getPath())) {
                copy(fs, child, target.resolve(child.getPath().getName()));
            }
        } else {
            try (InputStream in = fs.open(status.getPath())) {
                Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    private static void deleteAtExit(Path root) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try (java.util.stream.Stream<Path> walk = Files.walk(root)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            } catch (IOException | UncheckedIOException ignored) {
                // a temporary folder; the system cleans it up eventually
            }
        }, "sparkvit-input-cleanup"));
    }

    private static Path download(String what, String location, Configuration conf) {
        org.apache.hadoop.fs.Path remote = new org.apache.hadoop.fs.Path(location);
        try {
            FileSystem fs = remote.getFileSystem(conf);
            if (!fs.exists(remote)) {
                throw new IllegalArgumentException(what + " " + location + " does not exist");
            }
            Path dir = Files.createTempDirectory("sparkvit-input-");
            Path copy = dir.resolve(remote.getName());
            copy(fs, fs.getFileStatus(remote), copy);
            deleteAtExit(dir);
            return copy;
        } catch (IOException e) {
            throw new IllegalArgumentException(what + " " + location + " cannot be read: "
                    + dev.sparkvit.storage.IoCause.of(e), e);
        } catch (UncheckedIOException e) {
            throw new IllegalArgumentException(what + " " + location + " cannot be read: " + e.getMessage(), e);
        }
    }
}
