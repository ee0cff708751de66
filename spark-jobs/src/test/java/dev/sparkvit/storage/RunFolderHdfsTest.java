package dev.sparkvit.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.RemoteIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run folder on a real HDFS (MiniDFSCluster): published, pruned, pulled back by a second driver. */
class RunFolderHdfsTest {
    private static List<String> files(FileSystem fs, org.apache.hadoop.fs.Path root) throws IOException {
        List<String> out = new ArrayList<>();
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
        while (it.hasNext()) {
            out.add(it.next().getPath().toUri().getPath().substring(root.toUri().getPath().length() + 1));
        }
        out.sort(null);
        return out;
    }

    @Test
    void checkpointsArePublishedPrunedAndPulledBack(@TempDir Path tmp) throws Exception {
        try (MiniHdfs hdfs = MiniHdfs.start(tmp.resolve("hdfs"))) {
            String location = hdfs.uri() + "/runs/pretrain";
            org.apache.hadoop.fs.Path root = new org.apache.hadoop.fs.Path(location);
            FileSystem fs = root.getFileSystem(hdfs.conf());
            RunFolder first = RunFolder.open(location, hdfs.conf());
            Path work = first.local();
            Files.createDirectories(work.resolve("checkpoints/iter-000000004"));
            Files.writeString(work.resolve("checkpoints/iter-000000004/checkpoint.safetensors"), "four");
            Files.createDirectories(work.resolve("tensorboard"));
            Files.writeString(work.resolve("tensorboard/events"), "e1");
            first.publish();
            assertEquals(List.of("checkpoints/iter-000000004/checkpoint.safetensors", "tensorboard/events"),
                    files(fs, root));

            Files.createDirectories(work.resolve("checkpoints/iter-000000008"));
            Files.writeString(work.resolve("checkpoints/iter-000000008/checkpoint.safetensors"), "eight");
            Files.delete(work.resolve("checkpoints/iter-000000004/checkpoint.safetensors"));
            Files.delete(work.resolve("checkpoints/iter-000000004"));
            first.publish();
            assertEquals(List.of("checkpoints/iter-000000008/checkpoint.safetensors", "tensorboard/events"),
                    files(fs, root));
            assertEquals(location + "/checkpoints/iter-000000008",
                    first.describe(work.resolve("checkpoints/iter-000000008")));

            RunFolder second = RunFolder.open(location, hdfs.conf()); // another driver, e.g. after a lost one
            assertFalse(second.local().equals(work));
            assertEquals("eight", Files.readString(second.local().resolve(
                    "checkpoints/iter-000000008/checkpoint.safetensors")));
            assertTrue(Files.isRegularFile(second.local().resolve("tensorboard/events")));
        }
    }
}
