package dev.sparkvit.jobs.pretrain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.config.ConfigException;
import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.model.io.NamedTensor;
import dev.sparkvit.model.io.SafeTensors;
import dev.sparkvit.testing.InjectedFault;
import dev.sparkvit.testing.SharedSpark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pretraining job on {@code engine.BarrierSegment} (global NT-Xent, 2B - 2
 * negatives per view) on local[2], checkpoints and a resume that ends bit-identical to an uninterrupted run, and the
 * one-line refusal of every setting that engine does not support yet.
 */
@ExtendWith(SharedSpark.class)
class PretrainBarrierTest {
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

    /**
     * 2 epochs of batch 8 on the barrier engine, a checkpoint every 2 iterations, nothing it refuses; the shipped
     * weight decay (0.05, decoupled), EMA (0.999 with warmup) and projection_norm (batch: SyncBatchNorm).
     */
    static PretrainSettings settings(String out, String... more) {
        List<String> sets = new ArrayList<>(List.of("data.dataset=" + (dataset == null ? "ds" : dataset),
                "data.img_size=16", "output_dir=" + out, "training.epochs=2",
                "training.batch_size=8", "training.learning_rate=0.002", "training.warmup_epochs=1",
                "training.clip_grad_norm=1.0",
                "training.checkpoint.every_iterations=2", "temperature=0.2", "projection_dim=16"));
        sets.addAll(List.of(more));
        return PretrainConfig.read(YamlConfig.parse("test.yaml", new StringReader("")).with(sets));
    }

    private static PretrainResult run(PretrainSettings settings, boolean resume, long stopAfter,
            ByteArrayOutputStream console) {
        return run(settings, resume, stopAfter, console, new long[0]);
    }

    /** {@code nanAt}: 0-based iterations with a NaN input in every task's slice ({@link InjectedFault}). */
    private static PretrainResult run(PretrainSettings settings, boolean resume, long stopAfter,
            ByteArrayOutputStream console, long[] nanAt) {
        PretrainJob job = new PretrainJob(settings, resume, new PrintStream(console, true));
        if (nanAt.length > 0) {
            job.wrapModel(model -> new InjectedFault(model, InjectedFault.Kind.NAN_INPUT, nanAt));
        }
        if (stopAfter > 0) {
            job.stopAfter(stopAfter);
        }
        return job.execute(SharedSpark.session());
    }

    @Test
    void aBarrierRunTrainsWithGlobalNegativesWritesCheckpointsAndWeights(@TempDir Path tmp) throws Exception {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        long started = System.nanoTime();
        PretrainResult result = run(settings(tmp.toString()), false, 0, console);
        String text = console.toString();
        String first = text.lines().findFirst().orElse("");
        assertTrue(first.contains("global NT-Xent: 14 negatives per view")
                && first.contains("on 2 barrier tasks") && first.contains(String.format("chance %.4f", Math.log(15))),
                "first line: " + first);
        assertEquals(14, result.negativesPerAnchor(), "2B - 2 with B = 8");
        assertTrue(Files.exists(result.weights()) && Files.exists(result.curves()), text);
        PretrainSettings settings = settings(tmp.toString());
        assertTrue(settings.projectionBatchNorm(), "the shipped projection_norm: batch");
        assertEquals(0.05, settings.weightDecay(), "the shipped weight decay");
        assertEquals(0.999, settings.emaDecay(), "the shipped EMA decay");
        assertTrue(settings.emaWarmup());
        List<dev.sparkvit.checkpoint.TrainingCheckpoint> checkpoints = new ArrayList<>();
        try (var folders = Files.list(tmp.resolve("checkpoints"))) {
            folders.filter(p -> p.getFileName().toString().startsWith("iter-"))
                    .forEach(p -> checkpoints.add(dev.sparkvit.checkpoint.CheckpointStore.read(p)));
        }
        assertTrue(!checkpoints.isEmpty(), "no checkpoint");
        // the last checkpoint holds the real EMA (every iteration's weights and the final ones folded in), and the
        // saved pretrained-ema weights are it, not the live weights
        var last = checkpoints.stream().max(java.util.Comparator.comparingLong(c -> c.progress().iterations()))
                .orElseThrow();
        assertTrue(last.weights().keySet().stream().anyMatch(n -> n.contains("bn1")),
                "the projection head's BatchNorm is trained: " + last.weights().keySet());
        long total = result.iterationLosses().length;
        assertEquals(total, last.progress().iterations());
        assertEquals(total + 1, last.emaUpdates(), "one fold before each iteration and the final one");
        Map<String, NamedTensor> saved = SafeTensors.read(result.weights()).tensors();
        int compared = 0;
        int differing = 0;
        for (Map.Entry<String, NamedTensor> entry : saved.entrySet()) {
            NamedTensor ema = last.ema().get(entry.getKey());
            if (ema == null) {
                continue;
            }
            compared++;
            assertArrayEquals(ema.values(), entry.getValue().values(), entry.getKey() + ": saved and checkpoint EMA");
            differing += Arrays.equals(ema.values(), last.weights().get(entry.getKey()).values()) ? 0 : 1;
        }
        assertTrue(compared > 0 && differing == compared, differing + " of " + compared
                + " saved tensors differ from the live weights");
        try (var events = Files.walk(tmp.resolve("tensorboard"))) {
            assertTrue(events.anyMatch(p -> p.getFileName().toString().contains("tfevents")), "no TensorBoard events");
        }
        assertEquals(2, result.epochs().size(), text);
        for (float loss : result.iterationLosses()) {
            assertTrue(Float.isFinite(loss), Arrays.toString(result.iterationLosses()));
        }
        System.out.printf("barrier pretrain: %d iterations in %.1f s%n%s", result.iterationLosses().length,
                (System.nanoTime() - started) / 1e9, text);
    }

    @Test
    void aResumedBarrierRunEndsWithTheUninterruptedWeightsBitForBit(@TempDir Path tmp) throws Exception {
        ByteArrayOutputStream ignored = new ByteArrayOutputStream();
        PretrainResult whole = run(settings(tmp.resolve("whole").toString()), false, 0, ignored);
        String parts = tmp.resolve("parts").toString();
        // stop after the checkpoint at iteration 2 (mid-epoch: 89 train images, 12 iterations an epoch), then resume
        assertNull(run(settings(parts), false, 2, ignored).weights(), "an interrupted run has no result yet");
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        PretrainResult resumed = run(settings(parts), true, 0, console);
        assertTrue(console.toString().contains("resuming from iteration 2"), console.toString());
        Map<String, NamedTensor> expected = SafeTensors.read(whole.weights()).tensors();
        Map<String, NamedTensor> actual = SafeTensors.read(resumed.weights()).tensors();
        assertEquals(expected.keySet(), actual.keySet());
        for (String name : expected.keySet()) {
            assertArrayEquals(expected.get(name).values(), actual.get(name).values(), name + " differs");
        }
        float[] tail = Arrays.copyOfRange(whole.iterationLosses(), 2, whole.iterationLosses().length);
        assertArrayEquals(tail, resumed.iterationLosses(), "the resumed iterations' losses");
        assertEquals(whole.pretrainedProbe(), resumed.pretrainedProbe());
    }

    /**
     * FreezeOut (per-block schedules, the frozen prefix's backward skipped in every task), LARS on the exchanged
     * gradient and training.non_finite: skip, together on the barrier engine with a NaN input at iteration 4: the run
     * skips that step (its console line, the checkpoints' skipped list), and a run stopped after the checkpoint of
     * iteration 2 and resumed ends with the uninterrupted run's weights bit for bit.
     */
    @Test
    void freezeOutLarsAndSkippingRunAndResumeBitForBit(@TempDir Path tmp) throws Exception {
        String[] recipe = {"training.freezeout.enabled=true", "training.freezeout.t0=0.9", "training.optimizer=lars",
            "training.learning_rate=0.5", "training.non_finite=skip", "training.max_skipped_steps=2"};
        long[] nanAt = {3};
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        PretrainResult whole = run(settings(tmp.resolve("whole").toString(), recipe), false, 0, console, nanAt);
        String text = console.toString();
        assertTrue(text.lines().findFirst().orElse("").contains("FreezeOut on"), text);
        assertTrue(text.contains("pretrain: iteration 4/24 (epoch 1): non-finite") && text.contains("step skipped "
                + "(1 of at most 2"), text);
        String parts = tmp.resolve("parts").toString();
        assertNull(run(settings(parts, recipe), false, 2, new ByteArrayOutputStream(), nanAt).weights());
        ByteArrayOutputStream resumedConsole = new ByteArrayOutputStream();
        PretrainResult resumed = run(settings(parts, recipe), true, 0, resumedConsole, nanAt);
        assertTrue(resumedConsole.toString().contains("resuming from iteration 2"), resumedConsole.toString());
        Map<String, NamedTensor> expected = SafeTensors.read(whole.weights()).tensors();
        Map<String, NamedTensor> actual = SafeTensors.read(resumed.weights()).tensors();
        assertEquals(expected.keySet(), actual.keySet());
        for (String name : expected.keySet()) {
            assertArrayEquals(expected.get(name).values(), actual.get(name).values(), name + " differs");
        }
        var last = dev.sparkvit.checkpoint.CheckpointStore.read(Files.list(Path.of(parts, "checkpoints"))
                .filter(p -> p.getFileName().toString().startsWith("iter-"))
                .max(java.util.Comparator.comparing(p -> Long.parseLong(p.getFileName().toString().substring(5))))
                .orElseThrow());
        assertEquals(List.of(3L), last.skippedIterations());
        // every group's optimiser state by name, as the DistriOptimizer path's checkpoints hold it
        assertTrue(last.optimizer().keySet().containsAll(List.of("stem", "blocks.0", "neck")),
                last.optimizer().keySet().toString());
        assertEquals(24 + 1 - 1, last.emaUpdates(), "a fold before each iteration and the final one, minus the skip's");
        System.out.printf("barrier pretrain with FreezeOut, LARS and a skipped step: resumed bit for bit%n%s", text);
    }

    /** The engine is in every fingerprint; the key that chose it is gone, and setting it is one line. */
    @Test
    void theEngineIsInTheFingerprintAndItsKeyIsRemoved() {
        assertEquals("barrier", settings("/tmp/unused").fingerprint().get("engine"));
        for (String engine : List.of("distri", "barrier")) {
            ConfigException removed = assertThrows(ConfigException.class,
                    () -> settings("/tmp/unused", "training.engine=" + engine));
            assertEquals("test.yaml: training.engine (--set training.engine) was removed: both training jobs train "
                    + "on the barrier engine; delete the key", removed.getMessage());
        }
    }
}
