package dev.sparkvit.config;

import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;

/**
 * A YAML config file and the files it includes (relative to it): on the local disk, or on a Hadoop file system
 * ({@code --config hdfs:///conf/pretrain.yaml}, as a yarn-cluster driver, which has no local copy, needs).
 */
interface ConfigFile {
    /** How messages name it. */
    String name();

    /** Whether it is a readable regular file. */
    boolean readable();

    Reader open() throws IOException;

    /** The file {@code relative} names, resolved against this file's folder. */
    ConfigFile sibling(String relative);

    /** What include cycles are detected by: the same file gives the same identity. */
    String identity();

    /** {@code location}: a local path, or a URI of another Hadoop file system. */
    static ConfigFile of(String location) {
        Path local = dev.sparkvit.storage.Locations.local(location);
        return local != null ? new Local(local) : new Remote(new org.apache.hadoop.fs.Path(location), location,
                dev.sparkvit.storage.Locations.hadoop());
    }

    record Local(Path path) implements ConfigFile {
        @Override
        public String name() {
            return path.toString();
        }

        @Override
        public boolean readable() {
            return Files.isRegularFile(path) && Files.isReadable(path);
        }

        @Override
        public Reader open() throws IOException {
            return Files.newBufferedReader(path, StandardCharsets.UTF_8);
        }

        @Override
        public ConfigFile sibling(String relative) {
            return new Local(path.resolveSibling(relative).normalize());
        }

        @Override
        public String identity() {
            try {
                return path.toRealPath().toString();
            } catch (IOException e) {
                return path.toAbsolutePath().normalize().toString();
            }
        }
    }

    /** A file of a Hadoop file system, named as the user wrote it (Hadoop's Path drops an empty authority). */
    record Remote(org.apache.hadoop.fs.Path path, String name, Configuration conf) implements ConfigFile {

        @Override
        public boolean readable() {
            try {
                FileSystem fs = path.getFileSystem(conf);
                return fs.exists(path) && fs.getFileStatus(path).isFile();
            } catch (IOException e) {
                return false;
            }
        }

        @Override
        public Reader open() throws IOException {
            return new InputStreamReader(path.getFileSystem(conf).open(path), StandardCharsets.UTF_8);
        }

        @Override
        public ConfigFile sibling(String relative) {
            return new Remote(new org.apache.hadoop.fs.Path(path.getParent(), relative),
                    name.substring(0, name.lastIndexOf('/') + 1) + relative, conf);
        }

        @Override
        public String identity() {
            return path.toUri().normalize().toString();
        }
    }
}
