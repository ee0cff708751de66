package dev.sparkvit.jobs.finetune;

import static dev.sparkvit.jobs.finetune.FinetuneFixture.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.checkpoint.CheckpointStore;
import dev.sparkvit.checkpoint.TrainingCheckpoint;
import dev.sparkvit.config.ConfigException;
import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.model.io.NamedTensor;
import dev.sparkvit.model.io.SafeTensors;
import dev.sparkvit.testing.SharedSpark;
import java.io.ByteArrayOutputStream;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Fine-tuning on the barrier loop ({@code jobs.train.BarrierTraining}
 * with {@link SupervisedMethod}) on local[2] (2 barrier tasks), with the combined loss, balanced class weights and
 * focal alpha, mixup and cutmix, LP-FT head, clipping, decoupled weight decay and the EMA; validation of the live
 * and EMA weights every epoch, both classifiers written, TensorBoard events, checkpoints; a run stopped at its
 * checkpoint of iteration 3 and resumed ends bit-identical to an uninterrupted one, without and with gradient
 * accumulation (stopped inside an accumulation group; the EMA folds once per optimiser step).
 */
@ExtendWith(SharedSpark.class)
class FinetuneBarrierTest {
    @TempDir
    static Path shared;
    private static String dataset;
    private static Path ssl;

    @BeforeAll
    static void ingest() throws Exception {
        FinetuneFixture fixture = FinetuneFixture.create(shared);
        dataset = fixture.dataset();
        ssl = fixture.ssl();
    }

    /** 2 epochs of batch 8 on the barrier engine, a checkpoint every 3 iterations. */
    static FinetuneSettings settings(Path out, String... more) {
        List<String> sets = new ArrayList<>(List.of("data.dataset=" + (dataset == null ? "ds" : dataset),
                "data.img_size=16", "output_dir=" + out, "model.ssl_pretrained_path=" + (ssl == null ? "null" : ssl),
                "model.drop_path_rate=0", "training.epochs=2", "training.batch_size=8",
                "training.layer_decay=1", "training.learning_rate=0.002", "training.warmup_epochs=1",
                "training.ema.decay=0.99", "training.class_weights=balanced", "training.focal_alpha=balanced",
                "training.use_mixup=true", "training.use_cutmix=true", "training.checkpoint.every_iterations=3",
                "evaluation.tta_views=[identity]"));
        sets.addAll(List.of(more));
        return FinetuneConfig.read(YamlConfig.parse("test.yaml", new StringReader("")).with(sets));
    }

    @Test
    void aBarrierRunTrainsValidatesAndWritesBothClassifiers(@TempDir Path tmp) throws Exception {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        long started = System.nanoTime();
        FinetuneResult result = run(settings(tmp), false, 0, console);
        String text = console.toString();
        assertTrue(text.contains("on 2 barrier tasks (the loss of the global batch") && text.contains("combined loss, "
                + "mixup/cutmix") && text.contains("head: logistic regression"), text);
        assertTrue(text.contains("epoch 1/2") && text.contains("epoch 2/2") && text.contains("EMA acc"), text);
        assertEquals(2, result.history().size(), text);
        for (float loss : result.losses()) {
            assertTrue(Float.isFinite(loss) && loss > 0, Arrays.toString(result.losses()));
        }
        assertTrue(result.live() != null && result.ema() != null, "the last epoch's validation");

        Map<String, NamedTensor> live = SafeTensors.read(result.liveWeights()).tensors();
        Map<String, NamedTensor> ema = SafeTensors.read(result.emaWeights()).tensors();
        Map<String, NamedTensor> encoder = SafeTensors.read(ssl).tensors();
        int compared = 0;
        for (Map.Entry<String, NamedTensor> entry : live.entrySet()) {
            NamedTensor before = encoder.get(entry.getKey());
            if (before != null && Arrays.equals(before.shape(), entry.getValue().shape())) {
                compared++;
                assertFalse(Arrays.equals(before.values(), entry.getValue().values()), entry.getKey()
                        + " did not train");
            }
            assertFalse(Arrays.equals(entry.getValue().values(), ema.get(entry.getKey()).values()),
                    entry.getKey() + ": the EMA equals the live weights");
        }
        assertTrue(compared > 10, compared + " encoder tensors compared");
        assertEquals("barrier", SafeTensors.read(result.liveWeights()).metadata().get("engine"));

        // the last checkpoint holds the saved live weights and EMA (every iteration's weights and the final ones)
        CheckpointStore store = new CheckpointStore(tmp.resolve("checkpoints"), 3);
        TrainingCheckpoint last = store.latest(CheckpointStore.OnCorrupt.FAIL, line -> { }).orElseThrow();
        assertEquals(result.losses().length, last.progress().iterations());
        assertEquals(result.losses().length + 1, last.emaUpdates(), "one fold before each iteration and the final");
        for (Map.Entry<String, NamedTensor> entry : ema.entrySet()) {
            assertArrayEquals(last.ema().get(entry.getKey()).values(), entry.getValue().values(), entry.getKey());
            assertArrayEquals(last.weights().get(entry.getKey()).values(), live.get(entry.getKey()).values(),
                    entry.getKey());
        }
        try (var events = Files.walk(tmp.resolve("tensorboard"))) {
            assertTrue(events.anyMatch(p -> p.getFileName().toString().contains("tfevents")), "no TensorBoard events");
        }
        assertTrue(Files.size(result.curves()) > 1000);
        System.out.printf("barrier finetune: %d iterations in %.1f s%n%s", result.losses().length,
                (System.nanoTime() - started) / 1e9, text);
    }

    /**
     * Stopped at its checkpoint of iteration 3 and resumed, a run ends bit for bit as the uninterrupted one; with
     * {@code gradient_accumulation_steps: 2} (batch 16 in micro-batches of 8, so the same 24 iterations) iteration 3
     * is inside an accumulation group, and the EMA folds before each optimiser step's first micro-batch and once at
     * the end: 24 / k + 1 folds (EmaContainer's interval).
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void aResumedBarrierRunEndsWithTheUninterruptedWeightsBitForBit(int k, @TempDir Path tmp) throws Exception {
        String[] accumulation = {"training.batch_size=" + 8 * k, "training.gradient_accumulation_steps=" + k};
        ByteArrayOutputStream ignored = new ByteArrayOutputStream();
        FinetuneResult whole = run(settings(tmp.resolve("whole"), accumulation), false, 0, ignored);
        assertEquals(24, whole.losses().length, "iterations (micro-batches of 8)");
        TrainingCheckpoint end = new CheckpointStore(tmp.resolve("whole").resolve("checkpoints"), 3)
                .latest(CheckpointStore.OnCorrupt.FAIL, line -> { }).orElseThrow();
        assertEquals(24 / k + 1, end.emaUpdates(), "one fold before each optimiser step and the final one");
        Path parts = tmp.resolve("parts");
        // stop after the checkpoint at iteration 3 (mid-epoch), then resume: 3 + the rest = the whole run
        FinetuneResult first = run(settings(parts, accumulation), false, 3, ignored);
        assertNull(first.liveWeights(), "an interrupted run has no result yet");
        assertArrayEquals(Arrays.copyOfRange(whole.losses(), 0, 3), first.losses(), "iterations 1-3");
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        FinetuneResult resumed = run(settings(parts, accumulation), true, 0, console);
        assertTrue(console.toString().contains("resuming from iteration 3"), console.toString());
        assertArrayEquals(Arrays.copyOfRange(whole.losses(), 3, whole.losses().length), resumed.losses(),
                "the resumed iterations' losses");
        for (String file : List.of("finetuned.safetensors", "finetuned-ema.safetensors")) {
            Map<String, NamedTensor> a = SafeTensors.read(tmp.resolve("whole").resolve(file)).tensors();
            Map<String, NamedTensor> b = SafeTensors.read(parts.resolve(file)).tensors();
            assertEquals(a.keySet(), b.keySet());
            a.forEach((name, t) -> assertArrayEquals(t.values(), b.get(name).values(), file + " " + name));
        }
        assertEquals(whole.live().accuracy(), resumed.live().accuracy());
        assertEquals(whole.ema().meanLoss(), resumed.ema().meanLoss());
    }

    /** The engine is in every fingerprint, as pretraining's; the key that chose it is gone (one line). */
    @Test
    void theEngineIsInTheFingerprintAndItsKeyIsRemoved() {
        assertEquals("barrier", settings(Path.of("/tmp/unused")).resolved(89, 2).fingerprint().get("engine"));
        ConfigException removed = assertThrows(ConfigException.class,
                () -> settings(Path.of("/tmp/unused"), "training.engine=distri"));
        assertTrue(removed.getMessage().endsWith("training.engine (--set training.engine) was removed: both "
                + "training jobs train on the barrier engine; delete the key"), removed.getMessage());
    }
}
