package dev.sparkvit.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.testing.Reliability;
import dev.sparkvit.testing.SharedSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver killed with SIGKILL at two random moments mid-epoch and resumed with --resume each time:
 * {@code tools/resume-check.sh} (also {@code make resume-check}) on a dataset this test ingests (400 images of the
 * embedded classes at 32 px: 4 epochs of 6 iterations, checkpoints every 7, so both kills fall inside an epoch).
 * Both kills must land on a running JVM, and the final EMA weights and the last checkpoint (live weights, EMA,
 * optimiser moments, data position) must equal the uninterrupted run's byte for byte. Needs {@code make build}'s
 * jar (submit/sparkvit runs it; make reliability builds it first). About 4 minutes.
 */
@Reliability
@ExtendWith(SharedSpark.class)
class DriverKillTest {
    @Test
    void theDriverKilledTwiceMidEpochResumesToTheUninterruptedRunsBytes(@TempDir Path tmp) throws Exception {
        assertTrue(Files.isRegularFile(ChildProcesses.ROOT.resolve("spark-jobs/target/sparkvit.jar")),
                "run make build first (make reliability does): submit/sparkvit runs spark-jobs/target/sparkvit.jar");
        Path raw = tmp.resolve("raw");
        new SyntheticImageFolder(32, 40, 4).writeTo(raw);
        Path dataset = tmp.resolve("ds");
        new IngestJob(IngestSettings.defaults(raw.toString(), dataset.toString()).withStoredSize(32))
                .execute(SharedSpark.session());

        ChildProcesses.Child check = ChildProcesses.start(tmp.resolve("logs"), "resume-check",
                List.of("tools/resume-check.sh", dataset.toString(), "2"), Map.of("TMPDIR", tmp.toString()));
        int exit = check.exit(30);
        String out = check.stdout();
        System.out.print(out);
        assertEquals(0, exit, check.output());
        for (int k = 1; k <= 2; k++) {
            java.util.regex.Matcher kill = java.util.regex.Pattern.compile("resume-check: kill " + k
                    + ": SIGKILL \\(pid \\d+\\) after checkpoint iteration (\\d+) of (\\d+)").matcher(out);
            assertTrue(kill.find(), "kill " + k + " hit a running driver:\n" + out);
            // mid-training: the newest checkpoint when the kill landed was not the last one (checkpoints every 7
            // iterations of 6-iteration epochs: 7, 14 and 21 are inside epochs)
            assertTrue(Long.parseLong(kill.group(1)) < Long.parseLong(kill.group(2)), "kill " + k
                    + " landed before training ended:\n" + out);
        }
        assertTrue(out.contains("resume-check: pretrained-ema.safetensors identical ("), out);
        assertTrue(out.lines().anyMatch(l -> l.matches("resume-check: final checkpoint iter-\\d+ identical .*")), out);
    }
}
