package dev.sparkvit.storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;

/**
 * The output folder of a run (checkpoints, TensorBoard events, curves, weights, reports) wherever the user put it.
 * Jobs write a local folder, {@link #local()}: the folder itself when it is local; for {@code hdfs://} or
 * {@code s3a://} a working copy on the driver's disk, filled at {@link #open} with what the remote folder holds
 * (so that {@code --resume} and the "already holds checkpoints" check see it) and copied back by {@link #publish},
 * which jobs call after every checkpoint and at the end, successful or not.
 *
 * <p>Publishing makes the remote folder match the working copy for every entry this object knows (pulled or
 * published; remote entries it did not pull are never touched): a new folder (a checkpoint {@code iter-N}) is
 * uploaded under a temporary name ({@code ._publishing-NAME}) and renamed into place, a changed file likewise, and
 * an entry gone from the working copy (a pruned checkpoint) is deleted. On HDFS a rename is atomic, so a reader
 * never sees half a checkpoint; on S3A a rename copies object by object, so a driver killed while publishing can
 * leave an incomplete checkpoint folder, which {@code --resume} finds by its checksum (training.checkpoint.on_corrupt).
 * A leftover {@code ._publishing-*} entry is ignored and replaced by the next publish of that name. The working copy
 * is deleted when the JVM exits. Not for two runs writing one folder at once (neither is a local folder).
 */
public final class RunFolder {
    static final String PUBLISHING = "._publishing-";

    private final String location;
    private final Path local;
    private final FileSystem fs;
    private final org.apache.hadoop.fs.Path remote;
    /** Relative path -> the working copy's size and time when it last matched the remote file. */
    private final Map<String, Stamp> files = new HashMap<>();
    /** Relative paths of folders known to exist remotely ("" is the folder itself). */
    private final Set<String> dirs = new HashSet<>();

    private record Stamp(long size, long modified) {
        static Stamp of(Path file) throws IOException {
            return new Stamp(Files.size(file), Files.getLastModifiedTime(file).toMillis());
        }
    }

    private RunFolder(String location, Path local, FileSystem fs, org.apache.hadoop.fs.Path remote) {
        this.location = location;
        this.local = local;
        this.fs = fs;
        this.remote = remote;
    }

    /** Every entry of a remote run folder is pulled (training: checkpoints, events, history). */
    public static RunFolder open(String location, Configuration conf) {
        return open(location, conf, rel -> true);
    }

    /**
     * The run folder {@code location}; for a remote one, the entries whose relative path (with '/') {@code pull}
     * accepts are copied into a new working folder (a folder refused is skipped with all it holds).
     *
     * @throws IllegalArgumentException when a remote location is a file, or cannot be read (the message names it)
     */
    public static RunFolder open(String location, Configuration conf, Predicate<String> pull) {
        Path localPath = Locations.local(location);
        if (localPath != null) {
            return new RunFolder(localPath.toAbsolutePath().toString(), localPath.toAbsolutePath(), null, null);
        }
        org.apache.hadoop.fs.Path remote = new org.apache.hadoop.fs.Path(location);
        try {
            FileSystem fs = remote.getFileSystem(conf);
            Path work = Files.createTempDirectory("sparkvit-run-");
            deleteAtExit(work);
            RunFolder folder = new RunFolder(location, work, fs, remote);
            if (fs.exists(remote)) {
                if (!fs.getFileStatus(remote).isDirectory()) {
                    throw new IllegalArgumentException("output folder " + location + " is a file, not a folder");
                }
                folder.dirs.add("");
                folder.pull("", remote, work, pull);
            }
            return folder;
        } catch (IOException e) {
            throw new IllegalArgumentException("output folder " + location + " cannot be read: "
                    + dev.sparkvit.storage.IoCause.of(e), e);
        }
    }

    /** The folder as the user named it (a local one absolute). */
    public String location() {
        return location;
    }

    /** Where jobs write: the folder itself, or the working copy of a remote one. */
    public Path local() {
        return local;
    }

    /** Whether the folder is on another file system than the local one. */
    public boolean remote() {
        return fs != null;
    }

    /** How to name {@code file} (inside {@link #local()}) to a user: its place in the run folder. */
    public String describe(Path file) {
        if (fs == null) {
            return file.toString();
        }
        Path rel = local.relativize(file.toAbsolutePath());
        return rel.toString().isEmpty() ? location : Locations.resolve(location, rel.toString().replace('\\', '/'));
    }

    /** Makes the remote folder match the working copy (nothing to do for a local folder). */
    public void publish() {
        if (fs == null) {
            return;
        }
        try {
            if (!dirs.contains("")) {
                fs.mkdirs(remote);
                dirs.add("");
            }
            sync("", local, remote);
        } catch (IOException e) {
            throw new dev.sparkvit.storage.WriteFailedException("cannot publish the run to " + location + ": "
                    + dev.sparkvit.storage.IoCause.of(e), e);
        }
    }

    /**
     * Runs {@code work} (a job writing into {@link #local()}) and publishes what it wrote, also when it fails: what a
     * failed run wrote (events, checkpoints) is not lost with the driver. A failure to publish after a failure is
     * added to it as suppressed instead of replacing it.
     */
    public <T> T publishing(java.util.function.Supplier<T> work) {
        T result;
        try {
            result = work.get();
        } catch (RuntimeException | Error failure) {
            try {
                publish();
            } catch (RuntimeException e) {
                failure.addSuppressed(e);
            }
            throw failure;
        }
        publish();
        return result;
    }

    private void pull(String rel, org.apache.hadoop.fs.Path dir, Path into, Predicate<String> accept)
            throws IOException {
        for (FileStatus status : fs.listStatus(dir)) {
            String name = status.getPath().getName();
            String childRel = rel.isEmpty() ? name : rel + "/" + name;
            if (name.startsWith(PUBLISHING) || !accept.test(childRel)) {
                continue;
            }
            Path target = into.resolve(name);
            if (status.isDirectory()) {
                Files.createDirectories(target);
                dirs.add(childRel);
                pull(childRel, status.getPath(), target, accept);
            } else {
                try (InputStream in = fs.open(status.getPath())) {
                    Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                }
                files.put(childRel, Stamp.of(target));
            }
        }
    }

    private void sync(String rel, Path dir, org.apache.hadoop.fs.Path remoteDir) throws IOException {
        Set<String> present = new HashSet<>();
        for (Path child : children(dir)) {
            String name = child.getFileName().toString();
            if (name.startsWith(PUBLISHING)) {
                continue;
            }
            present.add(name);
            String childRel = rel.isEmpty() ? name : rel + "/" + name;
            org.apache.hadoop.fs.Path remoteChild = new org.apache.hadoop.fs.Path(remoteDir, name);
            if (Files.isDirectory(child)) {
                if (dirs.contains(childRel)) {
                    sync(childRel, child, remoteChild);
                } else {
                    uploadFolder(childRel, child, remoteChild);
                }
            } else if (!Stamp.of(child).equals(files.get(childRel))) {
                uploadFile(childRel, child, remoteChild);
            }
        }
        for (String gone : knownChildren(rel)) {
            String name = gone.substring(gone.lastIndexOf('/') + 1);
            if (!present.contains(name)) {
                fs.delete(new org.apache.hadoop.fs.Path(remoteDir, name), true);
                forget(gone);
            }
        }
    }

    /** A new folder: written under a temporary name, then renamed into place (atomic on HDFS). */
    private void uploadFolder(String rel, Path dir, org.apache.hadoop.fs.Path target) throws IOException {
        org.apache.hadoop.fs.Path tmp = new org.apache.hadoop.fs.Path(target.getParent(),
                PUBLISHING + target.getName());
        fs.delete(tmp, true);
        fs.mkdirs(tmp);
        Map<String, Stamp> written = new HashMap<>();
        List<String> folders = new ArrayList<>();
        copyTree(rel, dir, tmp, written, folders);
        replace(tmp, target);
        dirs.add(rel);
        dirs.addAll(folders);
        files.putAll(written);
    }

    private void copyTree(String rel, Path dir, org.apache.hadoop.fs.Path into, Map<String, Stamp> written,
            List<String> folders) throws IOException {
        for (Path child : children(dir)) {
            String name = child.getFileName().toString();
            String childRel = rel + "/" + name;
            org.apache.hadoop.fs.Path target = new org.apache.hadoop.fs.Path(into, name);
            if (Files.isDirectory(child)) {
                fs.mkdirs(target);
                folders.add(childRel);
                copyTree(childRel, child, target, written, folders);
            } else {
                Stamp stamp = Stamp.of(child);
                copy(child, target);
                written.put(childRel, stamp);
            }
        }
    }

    private void uploadFile(String rel, Path file, org.apache.hadoop.fs.Path target) throws IOException {
        Stamp stamp = Stamp.of(file);
        org.apache.hadoop.fs.Path tmp = new org.apache.hadoop.fs.Path(target.getParent(),
                PUBLISHING + target.getName());
        copy(file, tmp);
        replace(tmp, target);
        files.put(rel, stamp);
    }

    private void copy(Path file, org.apache.hadoop.fs.Path target) throws IOException {
        try (InputStream in = Files.newInputStream(file); OutputStream out = fs.create(target, true)) {
            in.transferTo(out);
        }
    }

    private void replace(org.apache.hadoop.fs.Path tmp, org.apache.hadoop.fs.Path target) throws IOException {
        if (fs.exists(target)) {
            fs.delete(target, true);
        }
        if (!fs.rename(tmp, target)) {
            throw new IOException("rename of " + tmp + " to " + target + " failed");
        }
    }

    private List<String> knownChildren(String rel) {
        List<String> out = new ArrayList<>();
        String prefix = rel.isEmpty() ? "" : rel + "/";
        for (String key : files.keySet()) {
            if (key.startsWith(prefix) && key.indexOf('/', prefix.length()) < 0) {
                out.add(key);
            }
        }
        for (String key : dirs) {
            if (!key.isEmpty() && key.startsWith(prefix) && key.indexOf('/', prefix.length()) < 0) {
                out.add(key);
            }
        }
        return out;
    }

    private void forget(String rel) {
        files.keySet().removeIf(k -> k.equals(rel) || k.startsWith(rel + "/"));
        dirs.removeIf(k -> k.equals(rel) || k.startsWith(rel + "/"));
    }

    private static List<Path> children(Path dir) throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return list.sorted().toList();
        }
    }

    private static void deleteAtExit(Path root) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try (Stream<Path> walk = Files.walk(root)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            } catch (IOException | UncheckedIOException ignored) {
                // a temporary folder; the system cleans it up eventually
            }
        }, "sparkvit-run-folder-cleanup"));
    }
}
