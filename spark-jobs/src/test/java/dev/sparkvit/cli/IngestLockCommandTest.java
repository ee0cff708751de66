package dev.sparkvit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.lock.FolderLock;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code sparkvit ingest} into a dataset whose lock another run holds ends with one line naming the dataset, the
 * holder and what to do, exit 4 (as a held registry lock), before Spark starts; an output on S3, where no lock can be
 * kept, is exit 2 with one line.
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
    void anOutputOnS3IsExitTwoWithOneLine(@TempDir Path tmp) throws Exception {
        Path raw = tmp.resolve("raw");
        Files.createDirectories(raw.resolve("cat"));
        Files.write(raw.resolve("cat/a.png"), new byte[] {1, 2, 3});
        StringWriter err = new StringWriter();
        int code = run(err, "ingest", "--input", raw.toString(), "--output", "s3a://bucket/ds");
        assertEquals(ExitCodes.BAD_INPUT, code, err.toString());
        String line = err.toString().trim();
        assertTrue(line.lines().count() == 1 && line.startsWith("sparkvit: --output = s3a://bucket/ds is not "
                + "supported: a dataset's lock and its atomically replaced class index and manifest need both")
                && line.contains("s3a:// is an object store"), line);
    }
}
