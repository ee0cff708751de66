package dev.sparkvit.data.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * classes.json and manifest.json are replaced atomically: at every moment the file is the old one or the new one.
 * The old code deleted the target, then renamed the temporary file over it; a run killed between the two left a
 * dataset without its class index. Here the file system's delete and rename are those of a process that dies at its
 * first rename: a replace that deletes first loses the file.
 */
class DatasetFilesReplaceTest {
    @TempDir
    Path dir;

    /** The local file system of a process killed at its first rename; every delete is recorded. */
    public static final class DyingAtRename extends LocalFileSystem {
        static final List<String> DELETED = new ArrayList<>();

        @Override
        public boolean delete(org.apache.hadoop.fs.Path f, boolean recursive) throws IOException {
            synchronized (DELETED) {
                DELETED.add(f.getName());
            }
            return super.delete(f, recursive);
        }

        @Override
        public boolean rename(org.apache.hadoop.fs.Path src, org.apache.hadoop.fs.Path dst) throws IOException {
            throw new IOException("killed at rename");
        }
    }

    private static Configuration dyingAtRename() {
        Configuration conf = new Configuration();
        conf.setClass("fs.file.impl", DyingAtRename.class, FileSystem.class);
        conf.setBoolean("fs.file.impl.disable.cache", true);
        return conf;
    }

    @Test
    void aReplaceNeverDeletesTheTargetSoAKillMidwayKeepsTheOldClassIndex() throws IOException {
        new DatasetFiles(dir.toString(), new Configuration()).writeClasses(List.of("cat", "dog"));
        DatasetFiles dying = new DatasetFiles(dir.toString(), dyingAtRename());
        try {
            dying.writeClasses(List.of("cat", "dog", "bike"));
        } catch (IOException killed) {
            // the old code: deleted, then died at the rename
        }
        List<String> classes = new DatasetFiles(dir.toString(), new Configuration()).readClasses();
        assertEquals(classes.size() == 2 ? List.of("cat", "dog") : List.of("cat", "dog", "bike"), classes,
                "the class index is the old one or the new one");
        synchronized (DyingAtRename.DELETED) {
            assertEquals(List.of(), DyingAtRename.DELETED.stream().filter(StoredImageSchema.CLASSES_FILE::equals)
                    .toList(), "the target was deleted before the rename");
        }
        try (var left = Files.list(dir)) {
            assertEquals(List.of(StoredImageSchema.CLASSES_FILE), left.map(p -> p.getFileName().toString()).toList(),
                    "no temporary file is left behind");
        }
    }
}
