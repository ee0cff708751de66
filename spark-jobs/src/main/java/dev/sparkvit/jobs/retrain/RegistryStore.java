package dev.sparkvit.jobs.retrain;

import dev.sparkvit.storage.AtomicFiles;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;

/**
 * The file operations of a {@link ModelRegistry}, on a local file system (java.nio) or on a Hadoop file system with
 * atomic create-if-absent and rename (HDFS). Locations are strings: a local path as {@link Path#toString()} shows
 * it, or a qualified Hadoop path ({@code hdfs://host:port/...}).
 *
 * <p>What the registry needs of both: a version folder appears complete or not at all (written under a temporary
 * name, then renamed to an absent name, atomically), and the production pointer is replaced atomically (a reader sees
 * the old or the new name, never a partial file).
 */
abstract class RegistryStore {

    abstract String child(String parent, String name);

    /** Whether anything exists there (a symbolic link counts, whatever it points at). */
    abstract boolean exists(String location) throws IOException;

    abstract boolean isFile(String location);

    abstract boolean isDirectory(String location);

    abstract long size(String location) throws IOException;

    abstract byte[] read(String location) throws IOException;

    /** The names in a folder (none when it does not exist). */
    abstract List<String> list(String dir) throws IOException;

    abstract void createDirectories(String dir) throws IOException;

    /** A new empty folder in {@code dir} whose name starts with {@code prefix}. */
    abstract String createTempDirectory(String dir, String prefix) throws IOException;

    /** Copies a local file to {@code target}, which must not exist. */
    abstract void copyIn(Path file, String target) throws IOException;

    /** Writes a new file. */
    abstract void write(String location, byte[] bytes) throws IOException;

    /** Renames a folder to an absent name in one atomic step; fails when {@code target} exists. */
    abstract void moveDirectory(String source, String target) throws IOException;

    /** Replaces (or creates) a file with {@code bytes} in one atomic step. */
    abstract void replace(String location, byte[] bytes) throws IOException;

    /** Deletes a folder and what it holds, if it exists. */
    abstract void deleteRecursively(String location) throws IOException;

    /**
     * A local file with the content of {@code location}: the file itself on a local registry, else a copy in a new
     * temporary file under {@code tmpDir} (the caller deletes it).
     */
    abstract Path localCopy(String location, Path tmpDir) throws IOException;

    /** What identifies a file's content cheaply: its length and modification time. */
    abstract String stamp(String location) throws IOException;

    /** Whether {@link #localCopy} returns copies. */
    abstract boolean remote();

    /** java.nio, as the registry always worked on local file systems. */
    static final class Local extends RegistryStore {
        @Override
        String child(String parent, String name) {
            return Path.of(parent).resolve(name).toString();
        }

        @Override
        boolean exists(String location) {
            return Files.exists(Path.of(location), LinkOption.NOFOLLOW_LINKS);
        }

        @Override
        boolean isFile(String location) {
            return Files.isRegularFile(Path.of(location));
        }

        @Override
        boolean isDirectory(String location) {
            return Files.isDirectory(Path.of(location));
        }

        @Override
        long size(String location) throws IOException {
            return Files.size(Path.of(location));
        }

        @Override
        byte[] read(String location) throws IOException {
            return Files.readAllBytes(Path.of(location));
        }

        @Override
        List<String> list(String dir) throws IOException {
            if (!Files.isDirectory(Path.of(dir))) {
                return List.of();
            }
            try (var entries = Files.list(Path.of(dir))) {
                return entries.map(p -> p.getFileName().toString()).toList();
            }
        }

        @Override
        void createDirectories(String dir) throws IOException {
            Files.createDirectories(Path.of(dir));
        }

        @Override
        String createTempDirectory(String dir, String prefix) throws IOException {
            return Files.createTempDirectory(Path.of(dir), prefix).toString();
        }

        @Override
        void copyIn(Path file, String target) throws IOException {
            Files.copy(file, Path.of(target), StandardCopyOption.COPY_ATTRIBUTES);
        }

        @Override
        void write(String location, byte[] bytes) throws IOException {
            Files.write(Path.of(location), bytes);
        }

        @Override
        void moveDirectory(String source, String target) throws IOException {
            Files.move(Path.of(source), Path.of(target), StandardCopyOption.ATOMIC_MOVE);
        }

        @Override
        void replace(String location, byte[] bytes) throws IOException {
            AtomicFiles.write(Path.of(location), tmp -> Files.write(tmp, bytes));
        }

        @Override
        void deleteRecursively(String location) throws IOException {
            Path root = Path.of(location);
            if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
                return;
            }
            try (var walk = Files.walk(root)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }

        @Override
        Path localCopy(String location, Path tmpDir) {
            return Path.of(location);
        }

        @Override
        String stamp(String location) throws IOException {
            return Files.size(Path.of(location)) + ":" + Files.getLastModifiedTime(Path.of(location)).toMillis();
        }

        @Override
        boolean remote() {
            return false;
        }
    }

    /**
     * A Hadoop file system whose create-if-absent ({@code create(path, overwrite=false)}) and rename are atomic, as
     * HDFS's are (both are single NameNode operations). Renames go through {@link FileContext}, whose rename fails
     * when the target exists (FileSystem's would move a folder into an existing one) and, with
     * {@link Options.Rename#OVERWRITE}, replaces a file atomically.
     */
    static final class Hadoop extends RegistryStore {
        private final FileSystem fs;
        private final FileContext fc;

        Hadoop(FileSystem fs, Configuration conf) throws IOException {
            this.fs = fs;
            this.fc = FileContext.getFileContext(fs.getUri(), conf);
        }

        FileSystem fs() {
            return fs;
        }

        private static org.apache.hadoop.fs.Path path(String location) {
            return new org.apache.hadoop.fs.Path(location);
        }

        @Override
        String child(String parent, String name) {
            return new org.apache.hadoop.fs.Path(path(parent), name).toString();
        }

        private FileStatus status(String location) {
            try {
                return fs.getFileStatus(path(location));
            } catch (IOException e) { // FileNotFoundException included
                return null;
            }
        }

        @Override
        boolean exists(String location) throws IOException {
            try {
                fs.getFileStatus(path(location));
                return true;
            } catch (FileNotFoundException e) {
                return false;
            }
        }

        @Override
        boolean isFile(String location) {
            FileStatus s = status(location);
            return s != null && s.isFile();
        }

        @Override
        boolean isDirectory(String location) {
            FileStatus s = status(location);
            return s != null && s.isDirectory();
        }

        @Override
        long size(String location) throws IOException {
            return fs.getFileStatus(path(location)).getLen();
        }

        @Override
        byte[] read(String location) throws IOException {
            try (InputStream in = fs.open(path(location))) {
                return in.readAllBytes();
            }
        }

        @Override
        List<String> list(String dir) throws IOException {
            List<String> names = new ArrayList<>();
            try {
                for (FileStatus s : fs.listStatus(path(dir))) {
                    names.add(s.getPath().getName());
                }
            } catch (FileNotFoundException e) {
                return List.of();
            }
            return names;
        }

        @Override
        void createDirectories(String dir) throws IOException {
            if (!fs.mkdirs(path(dir))) {
                throw new IOException("cannot create the folder " + dir);
            }
        }

        @Override
        String createTempDirectory(String dir, String prefix) throws IOException {
            String tmp = child(dir, prefix + UUID.randomUUID());
            fc.mkdir(path(tmp), null, false); // fails if it exists
            return tmp;
        }

        @Override
        void copyIn(Path file, String target) throws IOException {
            try (FSDataOutputStream out = fs.create(path(target), false)) {
                Files.copy(file, out);
            }
        }

        @Override
        void write(String location, byte[] bytes) throws IOException {
            try (OutputStream out = fs.create(path(location), false)) {
                out.write(bytes);
            }
        }

        @Override
        void moveDirectory(String source, String target) throws IOException {
            fc.rename(path(source), path(target), Options.Rename.NONE);
        }

        @Override
        void replace(String location, byte[] bytes) throws IOException {
            dev.sparkvit.storage.AtomicReplace.write(fs, path(location), out -> out.write(bytes));
        }

        @Override
        void deleteRecursively(String location) throws IOException {
            fs.delete(path(location), true);
        }

        @Override
        Path localCopy(String location, Path tmpDir) throws IOException {
            Files.createDirectories(tmpDir);
            Path copy = Files.createTempFile(tmpDir, "registry-", "-" + path(location).getName());
            try (InputStream in = fs.open(path(location))) {
                Files.copy(in, copy, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                Files.deleteIfExists(copy);
                throw e;
            }
            return copy;
        }

        @Override
        String stamp(String location) throws IOException {
            FileStatus s = fs.getFileStatus(path(location));
            return s.getLen() + ":" + s.getModificationTime();
        }

        @Override
        boolean remote() {
            return true;
        }
    }
}
