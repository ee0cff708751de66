package dev.sparkvit.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * Checks of the paths a command will write, made before any work starts, so that a file where a folder is expected
 * or a read-only file system ends the command with one line instead of a Spark stack trace after the work. Only
 * local paths are checked; others are left to the file system's client.
 */
public final class PathChecks {
    private PathChecks() {
    }

    /**
     * The local path {@code path} names, or null for one on another file system (hdfs://, s3a://, or no scheme on a
     * cluster whose default file system is not local: see {@link dev.sparkvit.storage.Locations#isRemote}).
     */
    public static Path local(String path) {
        return dev.sparkvit.storage.Locations.local(path);
    }

    /**
     * Why {@code path} cannot be a folder this command creates or writes into, or null when it can: it is a file,
     * lies under a file, or its nearest existing folder is read-only or not writable.
     */
    public static String folderProblem(String path) {
        Path dir = local(path);
        if (dir == null) {
            return null;
        }
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            return "is a file, not a folder";
        }
        return writableProblem(dir);
    }

    /** Why {@code path} cannot be a file this command writes, or null when it can. */
    public static String fileProblem(String path) {
        Path file = local(path);
        if (file == null) {
            return null;
        }
        if (Files.isDirectory(file)) {
            return "is a folder, not a file";
        }
        Path parent = file.toAbsolutePath().getParent();
        return parent == null ? null : writableProblem(parent);
    }

    /** The nearest existing ancestor (or {@code dir} itself) must be a writable folder. */
    private static String writableProblem(Path dir) {
        Path existing = dir.toAbsolutePath().normalize();
        while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS) && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return null;
        }
        if (!Files.isDirectory(existing)) {
            return "cannot be created: " + existing + " is a file";
        }
        try {
            if (Files.getFileStore(existing).isReadOnly()) {
                return "cannot be written: " + existing + " is on a read-only file system";
            }
        } catch (IOException e) {
            return "cannot be written: " + existing + ": " + e.getMessage();
        }
        if (!Files.isWritable(existing)) {
            return "cannot be written: " + existing + " is not writable (permission denied)";
        }
        return null;
    }

    /**
     * Why {@code file} cannot be read as a file, or null when it is a regular file: "does not exist", "is a folder,
     * not a file", or "is not a regular file (a device, pipe or socket)" ({@code /dev/zero} exists).
     */
    public static String notAFile(Path file) {
        if (Files.isRegularFile(file)) {
            return null;
        }
        if (!Files.exists(file)) {
            return "does not exist";
        }
        return Files.isDirectory(file) ? "is a folder, not a file" : "is not a regular file (a device, pipe or socket)";
    }

    /** Throws {@code IllegalArgumentException} "{what} {path} {problem}" when {@link #folderProblem} finds one. */
    public static void requireFolder(String what, String path) {
        String problem = folderProblem(path);
        if (problem != null) {
            throw new IllegalArgumentException(what + " " + path + " " + problem);
        }
    }

    /** Throws {@code IllegalArgumentException} "{what} {path} {problem}" when {@link #fileProblem} finds one. */
    public static void requireFile(String what, String path) {
        String problem = fileProblem(path);
        if (problem != null) {
            throw new IllegalArgumentException(what + " " + path + " " + problem);
        }
    }
}
