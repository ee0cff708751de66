package dev.sparkvit.jobs.finetune;

import static dev.sparkvit.jobs.finetune.FinetuneKeys.SEED;
import static dev.sparkvit.jobs.finetune.FinetuneFixture.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.jobs.evaluate.ClassificationMetrics;
import dev.sparkvit.jobs.evaluate.EvaluateJob;
import dev.sparkvit.model.io.NamedTensor;
import dev.sparkvit.model.io.SafeTensors;
import dev.sparkvit.model.vit.Head;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
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
 * The fine-tuning job end to end on a small ingested dataset, with the full recipe on (SSL encoder, drop_path,
 * layer decay, mixup and cutmix, combined loss with balanced class weights and focal alpha, EMA, clipping,
 * gradient accumulation, checkpoints): every parameter trains, the outputs are written, evaluation agrees with the
 * job's own validation, and a run restarted mid-accumulation after a lost exchange peer ends with the uninterrupted
 * weights (a resume from a stopped run: {@link FinetuneBarrierTest}).
 */
@ExtendWith(SharedSpark.class)
class FinetuneJobTest {
    private static final VitConfig CONFIG = FinetuneFixture.CONFIG;
    @TempDir
    static Path shared;
    private static String dataset;
    private static Path ssl;

    @BeforeAll
    static void ingestAndPretend() throws Exception {
        FinetuneFixture fixture = FinetuneFixture.create(shared);
        dataset = fixture.dataset();
        ssl = fixture.ssl();
    }

    /** 2 epochs of batch 16 in 2 micro-batches of 8, checkpoint every 3 iterations. */
    static FinetuneSettings settings(Path out, String... more) {
        List<String> sets = new ArrayList<>(List.of("data.dataset=" + dataset, "data.img_size=16", "output_dir=" + out,
                "model.ssl_pretrained_path=" + ssl, "model.drop_path_rate=0.1", "training.epochs=2",
                "training.batch_size=16", "training.gradient_accumulation_steps=2", "training.learning_rate=0.002",
                "training.warmup_epochs=1", "training.ema.decay=0.99", "training.class_weights=balanced",
                "training.focal_alpha=balanced", "training.checkpoint.every_iterations=3",
                "evaluation.tta_views=[identity, flip]"));
        sets.addAll(List.of(more));
        return FinetuneConfig.read(YamlConfig.parse("test.yaml", new StringReader("")).with(sets));
    }

    /** The run of {@link #settings}, trained once for the tests that check it or compare with it. */
    private record Uninterrupted(Path dir, FinetuneSettings settings, FinetuneResult result, String console) {
    }

    private static Uninterrupted uninterrupted;

    private static synchronized Uninterrupted uninterrupted() {
        if (uninterrupted == null) {
            Path dir = shared.resolve("whole");
            ByteArrayOutputStream console = new ByteArrayOutputStream();
            FinetuneSettings settings = settings(dir);
            uninterrupted = new Uninterrupted(dir, settings, run(settings, false, 0, console), console.toString());
        }
        return uninterrupted;
    }

    @Test
    void fullRecipeTrainsEveryParameterAndEvaluationAgreesWithTheJob(@TempDir Path tmp) throws Exception {
        Uninterrupted whole = uninterrupted();
        FinetuneSettings settings = whole.settings();
        FinetuneResult result = whole.result();

        String lines = whole.console();
        assertTrue(lines.contains("epoch 1/2") && lines.contains("epoch 2/2") && lines.contains("EMA acc"), lines);
        assertTrue(lines.contains("(2 micro-batches of 8)") && lines.contains("from " + ssl), lines);
        assertTrue(lines.contains("head: logistic regression on the frozen encoder's features"), "LP-FT: " + lines);
        for (float loss : result.losses()) {
            assertTrue(Float.isFinite(loss) && loss > 0, "loss " + loss);
        }
        assertEquals(2, result.history().size());

        // the starting point: the seeded classifier with the SSL encoder loaded
        VisionTransformer start = VisionTransformer.of(CONFIG.withDropPathRate(0.1), Head.classifier(4),
                settings.get(SEED));
        FinetuneJob.loadEncoder(start, ssl, "vit_nano_patch4_32", 16);
        Map<String, NamedTensor> sslTensors = SafeTensors.read(ssl).tensors();
        assertArrayEquals(sslTensors.get("blocks.2.attn.qkv.weight").values(),
                Tensors.toArray(start.namedParameters().get("blocks.2.attn.qkv.weight")), "the SSL encoder is loaded");
        Map<String, NamedTensor> live = SafeTensors.read(result.liveWeights()).tensors();
        Map<String, NamedTensor> ema = SafeTensors.read(result.emaWeights()).tensors();
        for (Map.Entry<String, Tensor<Float>> p : start.namedParameters().entrySet()) {
            float[] before = Tensors.toArray(p.getValue());
            assertFalse(java.util.Arrays.equals(before, live.get(p.getKey()).values()),
                    p.getKey() + " did not train");
            assertFalse(java.util.Arrays.equals(live.get(p.getKey()).values(), ema.get(p.getKey()).values()),
                    p.getKey() + ": the EMA equals the live weights");
        }
        Map<String, String> meta = SafeTensors.read(result.liveWeights()).metadata();
        assertEquals("vit_nano_patch4_32", meta.get("preset"));
        assertEquals("16", meta.get("img_size"));
        assertTrue(Files.size(result.curves()) > 1000);
        assertEquals(3, new dev.sparkvit.checkpoint.CheckpointStore(whole.dir().resolve("checkpoints"), 3).list()
                .size());

        // evaluate on the validation split without TTA: the job's own last validation, for live and EMA
        EvaluateJob.Result val = new EvaluateJob(new EvaluateJob.Settings(whole.dir(), null, null, "val",
                List.of("identity"), tmp.resolve("eval-val")), new PrintStream(new ByteArrayOutputStream()))
                .execute(SharedSpark.session());
        assertEquals(List.of("live", "ema"), new ArrayList<>(val.variants().keySet()));
        assertSame(result.live(), val.variants().get("live"));
        assertSame(result.ema(), val.variants().get("ema"));

        // on the test split with the run's TTA views: four variants, JSON, confusion PNGs and one HTML page
        EvaluateJob.Result test = new EvaluateJob(new EvaluateJob.Settings(whole.dir(), null, null, "test", null,
                tmp.resolve("eval")), new PrintStream(new ByteArrayOutputStream())).execute(SharedSpark.session());
        assertEquals(List.of("live", "live+tta", "ema", "ema+tta"), new ArrayList<>(test.variants().keySet()));
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(test.metrics().toFile());
        assertEquals(test.images(), json.get("variants").get("ema+tta").get("count").asLong());
        assertEquals("[\"identity\",\"flip\"]", json.get("tta_views").toString());
        for (String variant : test.variants().keySet()) {
            Path png = tmp.resolve("eval").resolve("confusion-" + variant.replaceAll("[^a-z0-9]+", "-") + ".png");
            assertTrue(Files.size(png) > 500, png.toString());
        }
        String html = Files.readString(test.report());
        assertTrue(html.contains("ema+tta") && html.contains("data:image/png;base64,")
                && !html.contains("src=\"http"), "self-contained report");
    }

    private static void assertSame(ClassificationMetrics expected, ClassificationMetrics actual) {
        assertEquals(expected.count(), actual.count());
        assertEquals(expected.accuracy(), actual.accuracy());
        assertEquals(expected.meanLoss(), actual.meanLoss(), 1e-6);
        assertArrayEquals(expected.confusion(), actual.confusion());
    }

    @Test
    void aRestartAfterALostExchangePeerMidAccumulationEndsWithTheUninterruptedWeights(@TempDir Path tmp)
            throws Exception {
        FinetuneResult whole = uninterrupted().result();
        // the peer goes in iteration 5 (index 4); the newest checkpoint, iter-3, is between two micro-batches of a step
        String key = UUID.randomUUID().toString();
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        FinetuneResult restarted = new FinetuneJob(settings(tmp.resolve("restarted")), false,
                new PrintStream(console, true)).wrapModel(model -> new SparkTaskFault(model,
                        SparkTaskFault.Kind.LOSE_EXCHANGE_PEER, 4, key, 1))
                .execute(SharedSpark.session());
        assertEquals(1, SparkTaskFault.fired(key));
        List<String> restarts = console.toString().lines().filter(l -> l.startsWith("finetune: restart ")).toList();
        assertEquals(1, restarts.size(), console.toString());
        assertTrue(restarts.get(0).contains("continuing from checkpoint " + tmp.resolve("restarted/checkpoints/"
                + "iter-000000003")), restarts.get(0));

        // the attempt that finished trained iterations 4 to the end, from the checkpoint of iteration 3
        assertArrayEquals(java.util.Arrays.copyOfRange(whole.losses(), 3, whole.losses().length), restarted.losses(),
                "per-iteration losses of the restarted attempt");
        for (String file : List.of("finetuned.safetensors", "finetuned-ema.safetensors")) {
            Map<String, NamedTensor> a = SafeTensors.read(uninterrupted().dir().resolve(file)).tensors();
            Map<String, NamedTensor> b = SafeTensors.read(tmp.resolve("restarted").resolve(file)).tensors();
            assertEquals(a.keySet(), b.keySet());
            a.forEach((name, t) -> assertArrayEquals(t.values(), b.get(name).values(), file + " " + name));
        }
        assertEquals(whole.history().size(), restarted.history().size(), "the epoch history spans the restart");
    }

    @Test
    void aWarmupOfZeroEpochsIsNoWarmupEvenInARunOfOneStep(@TempDir Path tmp) {
        // one optimiser step in all: warmup 0 was made 1 iteration, and the schedule refused "warmup 1, total 1"
        FinetuneResult r = run(settings(tmp, "model.ssl_pretrained_path=null", "training.epochs=1",
                "training.warmup_epochs=0", "training.batch_size=128", "training.gradient_accumulation_steps=1",
                "evaluation.tta_views=[identity]"),
                false, 0, new ByteArrayOutputStream());
        assertEquals(1, r.losses().length);
    }

    @Test
    void aLabelFractionThatKeepsNoTrainingImageNamesTheKey(@TempDir Path tmp) {
        dev.sparkvit.config.ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(
                dev.sparkvit.config.ConfigException.class, () -> run(settings(tmp, "data.label_fraction=0.000001"),
                        false, 0, new ByteArrayOutputStream()));
        assertTrue(e.getMessage().contains("data.label_fraction = 1.0E-6") && e.getMessage().contains(dataset),
                e.getMessage());
    }

    @Test
    void classesWithoutTrainingImagesAreNamedInAWarning(@TempDir Path tmp) {
        // issue 20, defect 5: a class with no training image trained without a word
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        run(settings(tmp, "model.ssl_pretrained_path=null", "data.label_fraction=0.05", "training.warmup_epochs=0",
                "training.class_weights=none", "training.focal_alpha=none",
                "evaluation.tta_views=[identity]"), false, 1, console);
        String text = console.toString();
        assertTrue(text.contains("classes have no training images at data.label_fraction = 0.05"), text);
    }
}
