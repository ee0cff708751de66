package dev.sparkvit.jobs.finetune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.config.ConfigException;
import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.jobs.pretrain.PretrainSettings;
import dev.sparkvit.model.optim.FreezeOutSchedule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped fine-tuning config reads with its documented values, and every way a config can be wrong gives one
 * message naming the file, the key and the value.
 */
class FinetuneConfigTest {
    private static final Path SHIPPED = Path.of("..", "conf", "finetune.yaml");

    @TempDir
    Path tmp;

    /** {@code yaml} with DS standing for an existing dataset folder, written to finetune.yaml. */
    private Path write(String yaml) throws IOException {
        Files.createDirectories(tmp.resolve("ds"));
        Path file = tmp.resolve("finetune.yaml");
        Files.writeString(file, yaml.replace("DS", tmp.resolve("ds").toString()));
        return file;
    }

    private FinetuneSettings read(String yaml, String... sets) throws IOException {
        return FinetuneConfig.read(YamlConfig.load(write(yaml)).with(List.of(sets)));
    }

    /** The message of the ConfigException {@code yaml} gives, after checking that it names the file. */
    private String error(String yaml) throws IOException {
        ConfigException e = assertThrows(ConfigException.class, () -> read(yaml));
        assertTrue(e.getMessage().contains(tmp.resolve("finetune.yaml").toString()), e.getMessage());
        return e.getMessage();
    }

    private static void assertMentions(String message, String... parts) {
        for (String part : parts) {
            assertTrue(message.contains(part), "expected '" + part + "' in: " + message);
        }
    }

    @Test
    void theShippedConfigReadsWithTheDocumentedValues() {
        FinetuneSettings read = FinetuneConfig.read(YamlConfig.load(SHIPPED).with(List.of("data.dataset=" + tmp,
                "model.ssl_pretrained_path=null")));
        assertEquals(java.util.Set.copyOf(FinetuneSettings.AUTO_KEYS), read.auto(), "the recipe's keys are auto");
        FinetuneSettings s = read.resolved(1_433, 2); // a small dataset
        assertEquals(tmp.toString(), s.dataset());
        assertEquals("vit_nano_patch4_32", s.preset());
        assertNull(s.sslCheckpoint());
        assertTrue(s.fromScratch());
        FinetuneRecipe small = FinetuneRecipe.forTrainImages(1_433);
        assertEquals(small.dropPathRate(), s.dropPathRate());
        assertEquals(30, s.epochs());
        assertEquals(small.batchSize(), s.batchSize());
        assertEquals(1, s.accumulationSteps());
        assertEquals(small.batchSize(), s.microBatch());
        assertEquals(small.learningRate(), s.learningRate());
        assertEquals(0.75, s.layerDecay());
        assertEquals(small.weightDecay(), s.weightDecay());
        assertEquals(3, s.warmupEpochs());
        assertEquals(1.0, s.clipGradNorm());
        assertEquals(42L, s.seed());
        assertEquals(new FinetuneSettings.Ema(true, 0.9999, true), s.ema());
        assertEquals(new FinetuneSettings.Mixing(false, 0.8, false, 1.0), s.mixup());
        assertEquals(new FinetuneSettings.Loss("combined", 0.1, 2.0, "none", "none"), s.loss());
        assertEquals(new dev.sparkvit.jobs.train.FreezeOut(false, 0.8, FreezeOutSchedule.Scaling.CUBIC, false),
                s.freezeOut());
        assertEquals(0, s.checkpointEvery());
        assertEquals(3, s.keepCheckpoints());
        assertEquals("light", s.severity());
        assertEquals(List.of("identity", "flip", "crops"), s.tta());
        assertEquals(Path.of("out", "finetune").toAbsolutePath().toString(), s.outputDir());
        assertEquals(SHIPPED.toString(), s.source());
    }

    @Test
    void theShippedValuesAreTheDefaults() throws IOException {
        FinetuneSettings shipped = FinetuneConfig.read(YamlConfig.load(SHIPPED).with(List.of("data.dataset=" + tmp,
                "model.ssl_pretrained_path=null")));
        FinetuneSettings defaults = read("data:\n  dataset: " + tmp + "\n");
        for (long images : new long[] {1_000, 10_000, 100_000}) {
            assertEquals(shipped.resolved(images, 2).fingerprint(), defaults.resolved(images, 2).fingerprint());
        }
        assertEquals(shipped.tta(), defaults.tta());
        assertEquals(shipped.outputDir(), defaults.outputDir());
        assertEquals(shipped.checkpointEvery(), defaults.checkpointEvery());
        assertEquals(shipped.keepCheckpoints(), defaults.keepCheckpoints());
    }

    @Test
    void overridesAndOptionalInputsApply() throws IOException {
        Path weights = Files.createFile(tmp.resolve("pretrained.safetensors"));
        FinetuneSettings s = read("data:\n  dataset: DS\nmodel:\n  ssl_pretrained_path: " + weights + "\n"
                + "evaluation:\n  tta_views: [FLIP]\n", "training.batch_size=12",
                "training.gradient_accumulation_steps=3", "training.use_cutmix=false");
        assertEquals(weights.toAbsolutePath().toString(), s.sslCheckpoint());
        assertFalse(s.fromScratch());
        assertEquals(4, s.microBatch());
        // use_mixup stays auto (on for a large dataset), use_cutmix is set
        assertEquals(new FinetuneSettings.Mixing(true, 0.8, false, 1.0), s.resolved(100_000, 4).mixup());
        assertEquals(List.of("flip"), s.tta());
        FinetuneSettings noTta = read("data:\n  dataset: DS\n", "training.use_tta=false");
        assertEquals(List.of("identity"), noTta.tta());
    }

    @Test
    void anUnknownKeyNamesFileLineAndTheKnownKeys() throws IOException {
        String message = error("data:\n  dataset: DS\ntraining:\n  epochs: 3\n  layer_decy: 0.5\n");
        assertMentions(message, "finetune.yaml:5", "unknown key training.layer_decy", "layer_decay");
    }

    @Test
    void wrongChoicesAndRangesNameKeyAndValue() throws IOException {
        assertMentions(error("data:\n  dataset: DS\ntraining:\n  loss_type: hinge\n"), "finetune.yaml:4",
                "training.loss_type = hinge", "ce, focal, combined");
        assertMentions(error("data:\n  dataset: DS\ntraining:\n  label_smoothing: 1.0\n"), "finetune.yaml:4",
                "training.label_smoothing = 1.0");
        assertMentions(error("data:\n  dataset: DS\ntraining:\n  layer_decay: 0\n"), "finetune.yaml:4",
                "training.layer_decay = 0");
        assertMentions(error("data:\n  dataset: DS\nevaluation:\n  tta_views: [identity, blur]\n"),
                "finetune.yaml:4", "evaluation.tta_views = [identity, blur]", "identity, flip, crops");
        assertMentions(error("data:\n  dataset: DS\ntraining:\n  epochs:\n    first: 3\n"), "finetune.yaml:5",
                "training.epochs = {first: 3}", "a single value");
    }

    @Test
    void crossFieldRulesNameBothKeys() throws IOException {
        assertMentions(error("data:\n  dataset: DS\ntraining:\n  batch_size: 10\n  gradient_accumulation_steps: 4\n"),
                "training.batch_size = 10", "training.gradient_accumulation_steps = 4");
        assertMentions(error("data:\n  dataset: DS\ntraining:\n  gradient_accumulation_steps: 2\n  freezeout:\n"
                + "    enabled: true\n"), "training.freezeout.enabled = true", "training.gradient_accumulation_steps");
        assertMentions(error("data:\n  dataset: DS\ntraining:\n  epochs: 5\n  warmup_epochs: 5\n"),
                "training.warmup_epochs = 5", "less than training.epochs = 5");
    }

    @Test
    void missingInputsAreNamed() throws IOException {
        Path noWeights = tmp.resolve("no-such.safetensors");
        assertMentions(error("data:\n  dataset: DS\nmodel:\n  ssl_pretrained_path: " + noWeights + "\n"),
                "model.ssl_pretrained_path = " + noWeights, "does not exist");
        Path noDataset = tmp.resolve("no-such-dataset");
        assertMentions(error("data:\n  dataset: " + noDataset + "\n"), "data.dataset = " + noDataset,
                "not a folder");
        assertMentions(error("training:\n  epochs: 3\n"), "data.dataset is required");
    }

    @Test
    void theEmaKeysHaveThePretrainingShape() throws IOException {
        FinetuneSettings s = read("data:\n  dataset: DS\ntraining:\n  ema:\n    enabled: false\n    decay: 0.99\n"
                + "    warmup: false\n");
        assertEquals(new FinetuneSettings.Ema(false, 0.99, false), s.ema());
        assertMentions(error("data:\n  dataset: DS\ntraining:\n  ema:\n    decay: 1.0\n"), "finetune.yaml:5",
                "training.ema.decay = 1.0");
        // the fingerprint keeps the text checkpoints written with the old keys hold, so they still resume
        FinetuneSettings shipped = FinetuneConfig.read(YamlConfig.load(SHIPPED).with(List.of("data.dataset=" + tmp,
                "model.ssl_pretrained_path=null"))).resolved(1_000, 2);
        assertEquals("Ema[enabled=true, decay=0.9999, warmup=true]", shipped.fingerprint().get("ema"));
    }

    @Test
    void eachOldEmaSpellingIsOneLineNamingTheNewKey() throws IOException {
        String file = tmp.resolve("finetune.yaml").toString();
        assertEquals(file + ":4: training.ema_decay is now training.ema.decay",
                error("data:\n  dataset: DS\ntraining:\n  ema_decay: 0.999\n"));
        assertEquals(file + ":4: training.ema_warmup is now training.ema.warmup",
                error("data:\n  dataset: DS\ntraining:\n  ema_warmup: false\n"));
        assertEquals(file + ":5: training.use_ema is now training.ema.enabled",
                error("data:\n  dataset: DS\ntraining:\n  epochs: 3\n  use_ema: false\n"));
        // also when written as null, and from --set (the job file and the option named)
        assertEquals(file + ":4: training.use_ema is now training.ema.enabled",
                error("data:\n  dataset: DS\ntraining:\n  use_ema:\n"));
        ConfigException set = assertThrows(ConfigException.class,
                () -> read("data:\n  dataset: DS\n", "training.ema_decay=0.99"));
        assertEquals(file + ": training.ema_decay (--set training.ema_decay) is now training.ema.decay",
                set.getMessage());
    }
}
