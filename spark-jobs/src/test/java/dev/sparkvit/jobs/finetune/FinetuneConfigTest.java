package dev.sparkvit.jobs.finetune;

import static dev.sparkvit.jobs.finetune.FinetuneKeys.BATCH_SIZE;
import static dev.sparkvit.jobs.train.TrainingKeys.CHECKPOINT_EVERY;
import static dev.sparkvit.jobs.train.TrainingKeys.CHECKPOINT_KEEP;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.CLIP_GRAD_NORM;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.DATASET;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.DROP_PATH_RATE;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.EMA;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.EPOCHS;
import static dev.sparkvit.jobs.train.TrainingKeys.FREEZEOUT;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.GRADIENT_ACCUMULATION_STEPS;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.LAYER_DECAY;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.LEARNING_RATE;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.LOSS;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.MIXING;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.OUTPUT_DIR;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.SEED;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.SEVERITY;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.SSL_PRETRAINED_PATH;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.TTA;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.WARMUP_EPOCHS;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.WEIGHT_DECAY;
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
        assertEquals(tmp.toString(), s.get(DATASET));
        assertEquals("vit_nano_patch4_32", s.preset());
        assertNull(s.get(SSL_PRETRAINED_PATH));
        assertTrue(s.fromScratch());
        FinetuneRecipe small = FinetuneRecipe.forTrainImages(1_433);
        assertEquals(small.dropPathRate(), s.get(DROP_PATH_RATE));
        assertEquals(30, s.get(EPOCHS));
        assertEquals(small.batchSize(), s.get(BATCH_SIZE));
        assertEquals(1, s.get(GRADIENT_ACCUMULATION_STEPS));
        assertEquals(small.batchSize(), s.microBatch());
        assertEquals(small.learningRate(), s.get(LEARNING_RATE));
        assertEquals(0.75, s.get(LAYER_DECAY));
        assertEquals(small.weightDecay(), s.get(WEIGHT_DECAY));
        assertEquals(3, s.get(WARMUP_EPOCHS));
        assertEquals(1.0, s.get(CLIP_GRAD_NORM));
        assertEquals(42, s.get(SEED));
        assertEquals(new FinetuneSettings.Ema(true, 0.9999, true), s.get(EMA));
        assertEquals(new FinetuneSettings.Mixing(false, 0.8, false, 1.0), s.get(MIXING));
        assertEquals(new FinetuneSettings.Loss("combined", 0.1, 2.0, "none", "none"), s.get(LOSS));
        assertEquals(new dev.sparkvit.jobs.train.FreezeOut(false, 0.8, FreezeOutSchedule.Scaling.CUBIC, false),
                s.get(FREEZEOUT));
        assertEquals(0, s.get(CHECKPOINT_EVERY));
        assertEquals(3, s.get(CHECKPOINT_KEEP));
        assertEquals("light", s.get(SEVERITY));
        assertEquals(List.of("identity", "flip", "crops"), s.get(TTA));
        assertEquals(Path.of("out", "finetune").toAbsolutePath().toString(), s.get(OUTPUT_DIR));
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
        assertEquals(shipped.get(TTA), defaults.get(TTA));
        assertEquals(shipped.get(OUTPUT_DIR), defaults.get(OUTPUT_DIR));
        assertEquals(shipped.get(CHECKPOINT_EVERY), defaults.get(CHECKPOINT_EVERY));
        assertEquals(shipped.get(CHECKPOINT_KEEP), defaults.get(CHECKPOINT_KEEP));
    }

    @Test
    void overridesAndOptionalInputsApply() throws IOException {
        Path weights = Files.createFile(tmp.resolve("pretrained.safetensors"));
        FinetuneSettings s = read("data:\n  dataset: DS\nmodel:\n  ssl_pretrained_path: " + weights + "\n"
                + "evaluation:\n  tta_views: [FLIP]\n", "training.batch_size=12",
                "training.gradient_accumulation_steps=3", "training.use_cutmix=false");
        assertEquals(weights.toAbsolutePath().toString(), s.get(SSL_PRETRAINED_PATH));
        assertFalse(s.fromScratch());
        assertEquals(4, s.microBatch());
        // use_mixup stays auto (on for a large dataset), use_cutmix is set
        assertEquals(new FinetuneSettings.Mixing(true, 0.8, false, 1.0), s.resolved(100_000, 4).get(MIXING));
        assertEquals(List.of("flip"), s.get(TTA));
        FinetuneSettings noTta = read("data:\n  dataset: DS\n", "training.use_tta=false");
        assertEquals(List.of("identity"), noTta.get(TTA));
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
        assertEquals(new FinetuneSettings.Ema(false, 0.99, false), s.get(EMA));
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
