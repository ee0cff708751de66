package dev.sparkvit.jobs.pretrain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.visualization.TrainSummary;
import dev.sparkvit.checkpoint.CheckpointStore;
import dev.sparkvit.checkpoint.TrainingCheckpoint;
import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.jobs.train.NonFiniteSteps;
import dev.sparkvit.jobs.train.TrainingDivergedException;
import dev.sparkvit.model.io.SafeTensors;
import dev.sparkvit.testing.InjectedFault;
import dev.sparkvit.testing.SharedSpark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import scala.Tuple3;

/**
 * A non-finite gradient in the pretraining job (one epoch of 6 iterations, a checkpoint every 2 iterations, all kept),
 * injected at a chosen iteration by {@link InjectedFault}: one NaN input value in every replica's slice. (The loss
 * stays finite: the projection head's ReLU maps NaN to 0 in the forward pass, while its first layer's weight gradient,
 * 0 x NaN, is NaN.)
 * Stop: the job fails with one line naming the iteration and the checkpoint to resume from; the checkpoints before
 * the fault are byte-identical to those of a run without the fault, nothing is written after them, and resuming from
 * the named checkpoint (the fault gone) ends with the fault-free run's weights. Skip: the step is reported on the
 * console and in TensorBoard, its checkpoint records it, a run interrupted right after it and resumed ends bit-identical
 * to the uninterrupted skipping run, and the bound of skipped steps stops the run.
 */
@ExtendWith(SharedSpark.class)
class PretrainNonFiniteTest {
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

    /** Runs the job; {@code faults}: 0-based iterations with a NaN input (none: no fault module at all). */
    private static Run run(PretrainSettings settings, boolean resume, long stopAfter, long... faults) {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        PretrainJob job = new PretrainJob(settings, resume, new PrintStream(console, true));
        if (stopAfter > 0) {
            job.stopAfter(stopAfter);
        }
        if (faults.length > 0) {
            job.wrapModel(model -> new InjectedFault(model, InjectedFault.Kind.NAN_INPUT, faults));
        }
        try {
            return new Run(job.execute(SharedSpark.session()), console.toString());
        } catch (TrainingDivergedException e) {
            throw new TrainingDivergedException(e.getMessage() + "\nconsole:\n" + console, e.getCause());
        }
    }

    /** Every file under {@code dir} with its bytes, by relative path. */
    private static Map<String, byte[]> files(Path dir) throws Exception {
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path file : walk.filter(Files::isRegularFile).sorted().toList()) {
                files.put(dir.relativize(file).toString(), Files.readAllBytes(file));
            }
        }
        return files;
    }

    private static void assertSameWeights(Path expected, Path actual) throws Exception {
        var a = SafeTensors.read(expected).tensors();
        var b = SafeTensors.read(actual).tensors();
        assertEquals(a.keySet(), b.keySet());
        for (String name : a.keySet()) {
            assertArrayEquals(a.get(name).values(), b.get(name).values(), name);
        }
    }

    @Test
    void stopKeepsTheEarlierCheckpointsExactlyAndResumesFromTheNewest(@TempDir Path tmp) throws Exception {
        Path clean = tmp.resolve("clean");
        PretrainResult reference = run(settings(clean), false, 0).result();

        Path faulty = tmp.resolve("faulty");
        TrainingDivergedException stop = assertThrows(TrainingDivergedException.class,
                () -> run(settings(faulty), false, 0, 4));
        String message = stop.getMessage().lines().findFirst().orElseThrow();
        Path newest = faulty.resolve("checkpoints").resolve("iter-000000004");
        String start = "pretrain stopped at iteration 5 of 6 (epoch 1): non-finite gradient norm NaN (loss ";
        assertTrue(message.startsWith(start), message);
        assertTrue(message.matches("\\Q" + start + "\\E\\d\\.\\d{4}\\); nothing was written after checkpoint "
                + "\\Q" + newest + "\\E: --resume continues from it \\(--set training.non_finite=skip steps over a "
                + "rare bad batch\\); a run that keeps diverging needs a lower training.learning_rate, "
                + "training.clip_grad_norm above 0, or a look at its data and starting weights"), message);

        // the checkpoints before the fault are those of the clean run, byte for byte; none after it, no weights
        Map<String, byte[]> written = files(faulty.resolve("checkpoints"));
        assertEquals(List.of("iter-000000002/checkpoint.safetensors", "iter-000000002/checkpoint.sha256",
                "iter-000000004/checkpoint.safetensors", "iter-000000004/checkpoint.sha256"),
                List.copyOf(written.keySet()));
        Map<String, byte[]> cleanFiles = files(clean.resolve("checkpoints"));
        written.forEach((name, bytes) -> assertArrayEquals(cleanFiles.get(name), bytes, name));
        assertFalse(Files.exists(faulty.resolve("pretrained-ema.safetensors")), "no final weights after a stop");
        assertFalse(Files.exists(faulty.resolve("pretrain-curves.png")));
        TrainingCheckpoint loaded = CheckpointStore.read(newest);
        assertEquals(4, loaded.progress().iterations());

        // the fault was transient: resuming from the named checkpoint ends where the clean run ended
        PretrainResult resumed = run(settings(faulty), true, 0).result();
        assertSameWeights(reference.weights(), resumed.weights());
    }

    @Test
    void skipReportsTheStepAndAResumeRightAfterItEndsAsTheUninterruptedRun(@TempDir Path tmp) throws Exception {
        // iteration 1 is the last before the checkpoint at 2: that checkpoint holds the EMA's pending skip
        Path whole = tmp.resolve("whole");
        Run skipping = run(settings(whole, "training.non_finite=skip", "training.max_skipped_steps=2"), false, 0, 1);
        assertTrue(skipping.console().contains("pretrain: iteration 2/6 (epoch 1): non-finite gradient norm NaN "
                + "(loss "), skipping.console());
        assertTrue(skipping.console().contains("; step skipped (1 of at most 2, training.max_skipped_steps)"),
                skipping.console());
        assertTrue(skipping.console().lines().anyMatch(l -> l.startsWith("epoch 1/1  loss ")
                && l.endsWith("(1 step skipped)")), skipping.console());
        Tuple3<Object, Object, Object>[] scalars = new TrainSummary(whole.resolve("tensorboard").toString(),
                "pretrain").readScalar(NonFiniteSteps.SKIPPED_SCALAR);
        assertEquals(1, scalars.length);
        assertEquals(2L, scalars[0]._1(), "logged at the skipped iteration's step");
        assertEquals(1f, scalars[0]._2());
        Map<String, String> meta = SafeTensors.read(whole.resolve("checkpoints/iter-000000002/checkpoint.safetensors"))
                .metadata();
        assertEquals("1", meta.get("skipped_iterations"));
        assertEquals("true", meta.get("ema_skip_next_fold"));
        Map<String, String> later = SafeTensors.read(whole.resolve(
                "checkpoints/iter-000000004/checkpoint.safetensors")).metadata();
        assertEquals("1", later.get("skipped_iterations"));
        assertFalse(later.containsKey("ema_skip_next_fold"), "the pending fold was left out at iteration 2");

        Path parts = tmp.resolve("parts");
        run(settings(parts, "training.non_finite=skip", "training.max_skipped_steps=2"), false, 2, 1);
        PretrainResult resumed = run(settings(parts, "training.non_finite=skip", "training.max_skipped_steps=2"),
                true, 0).result();
        assertSameWeights(skipping.result().weights(), resumed.weights());
    }

    @Test
    void theBoundOfSkippedStepsStopsTheRun(@TempDir Path tmp) {
        TrainingDivergedException stop = assertThrows(TrainingDivergedException.class, () -> run(settings(tmp,
                "training.non_finite=skip", "training.max_skipped_steps=1"), false, 0, 1, 3));
        assertTrue(stop.getMessage().startsWith("pretrain stopped at iteration 4 of 6 (epoch 1): non-finite gradient "
                + "norm NaN (loss "), stop.getMessage());
        assertTrue(stop.getMessage().contains(" after 1 skipped steps (training.max_skipped_steps = 1); nothing was "
                + "written after checkpoint " + tmp.resolve("checkpoints").resolve("iter-000000002") + ":"),
                stop.getMessage());
    }
}
