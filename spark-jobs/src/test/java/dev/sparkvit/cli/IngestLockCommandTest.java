package dev.sparkvit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.lock.FolderLock;
import dev.sparkvit.lock.LockSubject;
import dev.sparkvit.storage.MotoS3;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code sparkvit ingest} into a dataset whose lock another run holds ends with one line naming the dataset, the
 * holder and what to do, exit 4 (as a held registry lock), before Spark starts, also on S3 (s3a://, a real
 * S3-compatible server: {@link MotoS3}); an output on an object store where no lock can be kept (gs://, s3://) is
 * exit 2 with one line.
 */
class IngestLockCommandTest {
    private static int run(StringWriter err, String... args) {
        CommandLine commandLine = Main.commandLine();
        commandLine.setErr(new PrintWriter(err, true));
        commandLine.setOut(new PrintWriter(new StringWriter(), true));
        return commandLine.execute(args);
    }

    @Test
    void aHeldDatasetLockIsExitFourWithOneLineBeforeSparkStarts(@TempDir Path tmp) throws Exception {
        Path raw = tmp.resolve("raw");
        Files.createDirectories(raw.resolve("cat"));
        Files.write(raw.resolve("cat/a.png"), new byte[] {1, 2, 3});
        Path dataset = tmp.resolve("ds");
        try (FolderLock held = IngestJob.lock(IngestSettings.defaults(raw.toString(), dataset.toString()),
                "--output", new org.apache.hadoop.conf.Configuration(), line -> { })) {
            StringWriter err = new StringWriter();
            long start = System.nanoTime();
            int code = run(err, "ingest", "--input", raw.toString(), "--output", dataset.toString());
            assertEquals(ExitCodes.LOCK_HELD, code, err.toString());
            String line = err.toString().trim();
            assertTrue(line.lines().count() == 1 && line.startsWith("sparkvit: dataset " + dataset + " is locked by "
                    + "another ingest or retrain run (pid " + ProcessHandle.current().pid() + " on ")
                    && line.contains("; this run changed nothing. If no ingest or retrain run is active, delete "
                    + dataset.resolve(".lock")), line);
            assertTrue(System.nanoTime() - start < 5_000_000_000L, "fails fast, before Spark starts");
            assertEquals(java.util.List.of(".lock"), Files.list(dataset).map(p -> p.getFileName().toString())
                    .toList(), "nothing written");
        }
    }

    @Test
    void aHeldDatasetLockOnS3IsExitFourWithOneLineBeforeSparkStarts(@TempDir Path tmp) throws Exception {
        Path raw = tmp.resolve("raw");
        Files.createDirectories(raw.resolve("cat"));
        Files.write(raw.resolve("cat/a.png"), new byte[] {1, 2, 3});
        try (MotoS3 s3 = MotoS3.start(tmp.resolve("s3"))) {
            s3.createBucket("bucket");
            String dataset = "s3a://bucket/ds";
            org.apache.hadoop.conf.Configuration conf = s3.conf();
            conf.set(LockSubject.DATASET.settleKey(), "1"); // the first request of a new S3A client is slow
            s3.settings().forEach((k, v) -> System.setProperty("spark.hadoop." + k, v));
            try (FolderLock held = IngestJob.lock(IngestSettings.defaults(raw.toString(), dataset), "--output", conf,
                    line -> { })) {
                long start = System.nanoTime();
                StringWriter err = new StringWriter();
                int code = run(err, "ingest", "--input", raw.toString(), "--output", dataset);
                assertEquals(ExitCodes.LOCK_HELD, code, err.toString());
                String line = err.toString().trim();
                assertTrue(line.lines().count() == 1 && line.startsWith("sparkvit: dataset " + dataset + " is locked "
                        + "by another ingest or retrain run (pid " + ProcessHandle.current().pid() + " on ")
                        && line.contains("lease 300 s, last heartbeat ") && line.contains("; this run changed "
                        + "nothing. If no ingest or retrain run is active, delete " + dataset + "/.lock"), line);
                assertTrue(System.nanoTime() - start < 5_000_000_000L, "fails fast, before Spark starts");
                held.ensureHeld();
            } finally {
                s3.settings().keySet().forEach(k -> System.clearProperty("spark.hadoop." + k));
                org.apache.hadoop.fs.FileSystem.get(java.net.URI.create("s3a://bucket"), conf).close();
            }
        }
    }

    @Test
    void anOutputOnAnotherObjectStoreIsExitTwoWithOneLine(@TempDir Path tmp) throws Exception {
        Path raw = tmp.resolve("raw");
        Files.createDirectories(raw.resolve("cat"));
        Files.write(raw.resolve("cat/a.png"), new byte[] {1, 2, 3});
        for (String[] c : new String[][] {{"gs://bucket/ds", "gs:// is an object store without atomic "
                + "create-if-absent in Hadoop 3.2, and the lock for object stores is verified only on S3 (s3a://)"},
                {"s3://bucket/ds", "s3:// is not S3A (Hadoop 3.2 has no s3:// file system): write s3a://"}}) {
            StringWriter err = new StringWriter();
            int code = run(err, "ingest", "--input", raw.toString(), "--output", c[0]);
            assertEquals(ExitCodes.BAD_INPUT, code, err.toString());
            String line = err.toString().trim();
            assertTrue(line.lines().count() == 1 && line.startsWith("sparkvit: --output = " + c[0] + " is not "
                    + "supported: a dataset's lock needs an atomic create-if-absent (HDFS) or strong read-after-write "
                    + "consistency") && line.contains(c[1]) && line.endsWith("Put the dataset in a local or shared "
                    + "folder, or on hdfs:// or viewfs:// or s3a://"), line);
        }
    }

    @Test
    void aBadSettleDelayOrALeaseTooShortForItIsExitTwoWithOneLineNamingTheKey(@TempDir Path tmp) throws Exception {
        Path raw = tmp.resolve("raw");
        Files.createDirectories(raw.resolve("cat"));
        Files.write(raw.resolve("cat/a.png"), new byte[] {1, 2, 3});
        for (String[] c : new String[][] {{"abc", "300", "sparkvit: sparkvit.dataset.s3-settle-seconds = abc is "
                + "invalid: expected seconds from 0.01 to 600"}, {"3", "10", "sparkvit: sparkvit.dataset.lease-seconds "
                + "= 10 is too short for sparkvit.dataset.s3-settle-seconds = 3"}}) {
            System.setProperty("spark.hadoop.sparkvit.dataset.s3-settle-seconds", c[0]);
            System.setProperty("spark.hadoop.sparkvit.dataset.lease-seconds", c[1]);
            try {
                StringWriter err = new StringWriter();
                int code = run(err, "ingest", "--input", raw.toString(), "--output", "s3a://bucket/ds");
                assertEquals(ExitCodes.BAD_INPUT, code, err.toString());
                String line = err.toString().trim();
                assertTrue(line.lines().count() == 1 && line.startsWith(c[2]), line);
            } finally {
                System.clearProperty("spark.hadoop.sparkvit.dataset.s3-settle-seconds");
                System.clearProperty("spark.hadoop.sparkvit.dataset.lease-seconds");
            }
        }
    }
}
