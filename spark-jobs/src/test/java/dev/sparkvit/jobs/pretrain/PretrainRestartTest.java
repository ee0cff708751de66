package dev.sparkvit.jobs.pretrain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.jobs.train.TrainingDivergedException;
import dev.sparkvit.model.io.NamedTensor;
import dev.sparkvit.model.io.SafeTensors;
import dev.sparkvit.testing.InjectedFault;
import dev.sparkvit.testing.SharedSpark;
import dev.sparkvit.testing.SparkTaskFault;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The retry from checkpoint (training.max_restarts) with real Spark failures on local[2]: a barrier task fails as one
 * does when the executor holding an exchange block has died ({@link SparkTaskFault}), and the segment's barrier stage
 * fails as a whole. The run restarts in the same driver
 * from the newest checkpoint and ends bit-identical to an uninterrupted run; the restarts are bounded; a failure a
 * restart cannot cure (a task that throws, a non-finite loss) is not retried. The run: one epoch of 6 iterations,
 * batch 16, checkpoints every 2 iterations.
 */
@ExtendWith(SharedSpark.class)
class PretrainRestartTest {
    @TempDir
    static Path shared;
    private static String dataset;

    @BeforeAll
    static void ingest() {
        Path raw = shared.resolve("raw");
        new SyntheticImageFolder(16, 12, 4).writeTo(raw);
        dataset = shared.resolve("ds").toString();
        new IngestJob(IngestSettings.defaults(raw.toString(), dataset).withStoredSize(16))
                .execute(SharedSpark.session());
    }

    private static PretrainSettings settings(Path out, String... more) {
        List<String> sets = new ArrayList<>(List.of("data.dataset=" + dataset, "data.img_size=16", "output_dir=" + out,
                "training.epochs=1", "training.batch_size=16", "training.learning_rate=0.002",
                "training.warmup_epochs=0", "training.ema.decay=0.9", "training.checkpoint.every_iterations=2",
                "training.checkpoint.keep=10", "temperature=0.2", "projection_dim=16"));
        sets.addAll(List.of(more));
        return PretrainConfig.read(YamlConfig.parse("test.yaml", new StringReader("")).with(sets));
    }

    private record Run(PretrainResult result, String console) {
    }

    /** Runs the job with a task fault (none when {@code kind} is null); the console goes into a failure. */
    private static Run run(PretrainSettings settings, SparkTaskFault.Kind kind, long iteration, String key,
            int times) {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        PretrainJob job = new PretrainJob(settings, false, new PrintStream(console, true));
        if (kind != null) {
            job.wrapModel(model -> new SparkTaskFault(model, kind, iteration, key, times));
        }
        try {
            return new Run(job.execute(SharedSpark.session()), console.toString());
        } catch (Exception e) { // Spark's SparkException is thrown through Scala, unchecked
            throw new FailedRun(console.toString(), e);
        }
    }

    /** A failed run with what it printed. */
    private static final class FailedRun extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final String console;

        FailedRun(String console, Exception cause) {
            super(cause.getMessage() + "\nconsole:\n" + console, cause);
            this.console = console;
        }
    }

    private static List<String> restartLines(String console) {
        return console.lines().filter(l -> l.startsWith("pretrain: restart ")).toList();
    }

    @Test
    void aLostExchangePeerRestartsFromTheNewestCheckpointAndEndsBitIdenticalToTheUninterruptedRun(@TempDir Path tmp)
            throws Exception {
        Run reference = run(settings(tmp.resolve("clean")), null, 0, null, 0);
        assertEquals(List.of(), restartLines(reference.console()));

        // the peer goes in iteration 5 (index 4): checkpoints iter-2 and iter-4 exist, iteration 5 never completes
        String key = UUID.randomUUID().toString();
        Path out = tmp.resolve("restarted");
        Run restarted = run(settings(out), SparkTaskFault.Kind.LOSE_EXCHANGE_PEER, 4, key, 1);
        assertEquals(1, SparkTaskFault.fired(key));
        List<String> lines = restartLines(restarted.console());
        assertEquals(1, lines.size(), restarted.console());
        String line = lines.get(0);
        assertTrue(line.startsWith("pretrain: restart 1 of at most 2 (training.max_restarts) after lost executor "
                + "state (is on no executor) ("), line);
        assertTrue(line.endsWith("); continuing from checkpoint " + out.resolve("checkpoints").resolve("iter-000000004")
                + " once 1 executor(s) are registered"), line);
        assertTrue(restarted.console().contains("resuming from iteration 4 of 6 (epoch 1)"), restarted.console());

        // bit for bit: weights, EMA, optimiser moments (the final checkpoint) and the saved EMA weights; the losses
        assertArrayEquals(Files.readAllBytes(tmp.resolve("clean/checkpoints/iter-000000006/checkpoint.safetensors")),
                Files.readAllBytes(out.resolve("checkpoints/iter-000000006/checkpoint.safetensors")));
        Map<String, NamedTensor> a = SafeTensors.read(reference.result().weights()).tensors();
        Map<String, NamedTensor> b = SafeTensors.read(restarted.result().weights()).tensors();
        assertEquals(a.keySet(), b.keySet());
        a.forEach((name, t) -> assertArrayEquals(t.values(), b.get(name).values(), name));
        float[] curve = reference.result().iterationLosses();
        assertArrayEquals(java.util.Arrays.copyOfRange(curve, 4, curve.length), restarted.result().iterationLosses(),
                "the losses of the attempt that continued from iter-4");
        assertEquals(reference.result().pretrainedProbe().pooledAccuracy(),
                restarted.result().pretrainedProbe().pooledAccuracy());
        assertEquals(reference.result().epochs().size(), restarted.result().epochs().size(),
                "the epoch history spans the restart");
    }

    @Test
    void restartsAreBoundedByMaxRestartsAndZeroFailsAtOnce(@TempDir Path tmp) {
        // the peer goes in the second iteration of every attempt: each restart (from iter-2 or from 0) meets it again
        String key = UUID.randomUUID().toString();
        FailedRun bounded = assertThrows(FailedRun.class, () -> run(settings(tmp.resolve("bounded"),
                "training.max_restarts=1"), SparkTaskFault.Kind.LOSE_EXCHANGE_PEER, 1, key, 100));
        assertEquals(2, SparkTaskFault.fired(key), "the first attempt and one restart");
        assertEquals(1, restartLines(bounded.console).size(), bounded.console);
        assertTrue(restartLines(bounded.console).get(0).contains("no checkpoint yet: starting again from iteration 0"),
                bounded.console);
        assertTrue(bounded.console.contains("pretrain: lost executor state (is on no executor) ("),
                bounded.console);
        assertTrue(bounded.console.contains("; no restart left after 1 (training.max_restarts = 1); --resume "
                + "continues from the newest checkpoint"), bounded.console);
        assertTrue(bounded.getCause().getMessage().contains("is on no executor"), bounded.getCause().getMessage());

        String none = UUID.randomUUID().toString();
        FailedRun zero = assertThrows(FailedRun.class, () -> run(settings(tmp.resolve("zero"),
                "training.max_restarts=0"), SparkTaskFault.Kind.LOSE_EXCHANGE_PEER, 1, none, 100));
        assertEquals(1, SparkTaskFault.fired(none));
        assertEquals(List.of(), restartLines(zero.console));
        assertTrue(zero.console.contains("; no restart (training.max_restarts = 0); --resume continues from the "
                + "newest checkpoint"), zero.console);
    }

    @Test
    void failuresARestartCannotCureEndTheRunAtOnce(@TempDir Path tmp) {
        // a task that throws (a bug, a bad input): the same input would fail again
        String key = UUID.randomUUID().toString();
        FailedRun bug = assertThrows(FailedRun.class, () -> run(settings(tmp.resolve("bug")),
                SparkTaskFault.Kind.THROW, 3, key, 100));
        assertEquals(1, SparkTaskFault.fired(key), "tried once");
        assertEquals(List.of(), restartLines(bug.console));
        assertFalse(bug.console.contains("max_restarts"), bug.console);
        assertTrue(bug.getMessage().contains("injected task failure at iteration 3"), bug.getMessage());

        // a non-finite gradient under training.non_finite: stop
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        PretrainJob job = new PretrainJob(settings(tmp.resolve("nan")), false, new PrintStream(console, true))
                .wrapModel(model -> new InjectedFault(model, InjectedFault.Kind.NAN_INPUT, 3));
        assertThrows(TrainingDivergedException.class, () -> job.execute(SharedSpark.session()));
        assertEquals(List.of(), restartLines(console.toString()));
        assertFalse(console.toString().contains("max_restarts"), console.toString());
    }
}
