package dev.sparkvit.jobs.pretrain;

import static dev.sparkvit.jobs.pretrain.PretrainKeys.EMA_DECAY;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.EMA_WARMUP;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.PROJECTION_NORM;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.WEIGHT_DECAY;

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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pretraining job's harder recipe on the barrier engine (local[2]): FreezeOut, LARS and a skipped non-finite step,
 * stopped and resumed bit for bit; the shipped defaults; the engine in the fingerprint. The plain run, its checkpoints
 * and a mid-epoch resume are {@link PretrainJobTest}'s.
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

    /** The shipped recipe's values that {@link PretrainJobTest} and the demo rely on. */
    @Test
    void theShippedDefaults() {
        PretrainSettings settings = settings("/tmp/unused");
        assertTrue(settings.get(PROJECTION_NORM).equals("batch"), "the shipped projection_norm: batch");
        assertEquals(0.05, settings.get(WEIGHT_DECAY), "the shipped weight decay");
        assertEquals(0.999, settings.get(EMA_DECAY), "the shipped EMA decay");
        assertTrue(settings.get(EMA_WARMUP));
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
