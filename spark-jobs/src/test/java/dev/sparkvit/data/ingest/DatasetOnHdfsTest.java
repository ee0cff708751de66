package dev.sparkvit.data.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.lock.FolderLock;
import dev.sparkvit.lock.LockHeldException;
import dev.sparkvit.lock.LockHolder;
import dev.sparkvit.storage.MiniHdfs;
import dev.sparkvit.testing.SharedSpark;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dataset lock and the atomic replace of the side files on a real HDFS (MiniDFSCluster): a writer while the
 * lock is held and live stops with one line naming its holder and lease, a lock whose lease expired is taken over
 * and said so, the table's commit holds the new class appended, and only the table (metadata/, data/) is left.
 */
@ExtendWith(SharedSpark.class)
class DatasetOnHdfsTest {

    private static void images(Path root, String cls, int n, int seed) throws Exception {
        for (int i = 0; i < n; i++) {
            BadFiles.write(root.resolve(cls).resolve(cls + i + ".png"),
                    BadFiles.encode(BadFiles.noise(12, 12, seed * 1000L + i), "png"));
        }
    }

    private static IngestResult ingest(Path input, String dataset, boolean incremental, List<String> said) {
        return new IngestJob(IngestSettings.defaults(input.toString(), dataset).withStoredSize(8)
                .withIncremental(incremental), said::add).execute(SharedSpark.session());
    }

    @Test
    void theLockHoldsOnHdfsAnExpiredOneIsTakenOverAndTheClassIndexIsReplacedInPlace(@TempDir Path tmp)
            throws Exception {
        try (MiniHdfs hdfs = MiniHdfs.start(tmp.resolve("hdfs"))) {
            String dataset = hdfs.uri() + "/datasets/ds";
            FileSystem fs = FileSystem.get(URI.create(hdfs.uri()), hdfs.conf());
            Path base = tmp.resolve("base");
            images(base, "cat", 2, 1);
            images(base, "dog", 2, 2);
            List<String> said = new ArrayList<>();
            assertEquals(4, ingest(base, dataset, false, said).stored());

            Path newA = tmp.resolve("newA");
            images(newA, "newA", 2, 3);
            IngestSettings incremental = IngestSettings.defaults(newA.toString(), dataset).withIncremental(true);
            try (FolderLock held = IngestJob.lock(incremental, "--output", hdfs.conf(), said::add)) {
                LockHeldException e = assertThrows(LockHeldException.class, () -> ingest(newA, dataset, true, said));
                assertFalse(e.getMessage().contains("\n"), e.getMessage());
                assertTrue(e.getMessage().startsWith("dataset " + dataset + " is locked by another ingest or retrain "
                        + "run (pid " + ProcessHandle.current().pid() + " on "), e.getMessage());
                assertTrue(e.getMessage().contains("lease 300 s, last heartbeat "), e.getMessage());
                assertEquals(held.location(), dataset + "/.lock");
            }

            // a lock whose holder (on another host) stopped renewing its lease 10 minutes ago
            LockHolder self = LockHolder.current();
            String json = new LockHolder(4242, "elsewhere", self.bootId(), self.pidNamespace(), 5,
                    Instant.now().minusSeconds(900)).toJson("sparkvit ingest").trim();
            org.apache.hadoop.fs.Path lock = new org.apache.hadoop.fs.Path(dataset + "/.lock");
            try (OutputStream out = fs.create(lock, false)) {
                out.write((json.substring(0, json.length() - 1) + ",\"lease_seconds\":60}\n")
                        .getBytes(StandardCharsets.UTF_8));
            }
            fs.setTimes(lock, System.currentTimeMillis() - 600_000, -1);
            IngestResult added = ingest(newA, dataset, true, said);
            assertEquals(2, added.stored());
            assertEquals(1, said.size(), said.toString());
            assertTrue(said.get(0).startsWith("took over the dataset lock " + dataset + "/.lock of an ingest or "
                    + "retrain run that is no longer running (pid 4242 on elsewhere"), said.get(0));

            assertEquals(List.of("cat", "dog", "newA"), StoredTables.table(dataset, hdfs.conf()).classes());
            assertEquals(6, StoredTables.manifest(dataset, hdfs.conf()).images());
            assertEquals(2, StoredTables.table(dataset, hdfs.conf()).table().history().size(), "two commits");
            assertEquals(List.of("cat", "dog", "newA"), added.manifest().classes());
            List<String> names = new ArrayList<>();
            for (FileStatus s : fs.listStatus(new org.apache.hadoop.fs.Path(dataset))) {
                names.add(s.getPath().getName());
            }
            assertEquals(List.of("data", "metadata"), names.stream().sorted().toList(),
                    "the lock released, no temporary file left");
        }
    }
}
