package dev.sparkvit.config;

import static dev.sparkvit.jobs.pretrain.PretrainKeys.BATCH_SIZE;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.EPOCHS;
import static dev.sparkvit.jobs.train.TrainingKeys.FREEZEOUT;
import static dev.sparkvit.jobs.train.TrainingKeys.NON_FINITE_POLICY;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.OPTIMIZER;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.TEMPERATURE;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.jobs.pretrain.PretrainConfig;
import dev.sparkvit.jobs.pretrain.PretrainSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every way a pretraining config can be wrong gives one message naming the file, the key and the value. */
class PretrainConfigErrorsTest {
    @TempDir
    Path tmp;

    private Path write(String yaml) throws IOException {
        Files.createDirectories(tmp.resolve("ds"));
        Path file = tmp.resolve("pretrain.yaml");
        Files.writeString(file, yaml.replace("DS", tmp.resolve("ds").toString()));
        return file;
    }

    private String error(String yaml, String... sets) throws IOException {
        Path file = write(yaml);
        ConfigException e = assertThrows(ConfigException.class,
                () -> PretrainConfig.read(YamlConfig.load(file).with(List.of(sets))));
        return e.getMessage();
    }

    @Test
    void readsTheShippedConfigWithItsDefaults() {
        Path shipped = Path.of("..", "conf", "pretrain.yaml");
        PretrainSettings settings = PretrainConfig.read(YamlConfig.load(shipped).with(List.of(
                "data.dataset=" + tmp)));
        assertEquals("vit_nano_patch4_32", settings.preset());
        assertEquals(64, settings.get(BATCH_SIZE));
        assertEquals(0.2, settings.get(TEMPERATURE));
        assertEquals("adamw", settings.get(OPTIMIZER));
        assertEquals(dev.sparkvit.engine.NonFinitePolicy.stop(), settings.get(NON_FINITE_POLICY));
    }

    @Test
    void theNonFiniteKeysAreReadAndChecked() throws IOException {
        Path file = write("data:\n  dataset: DS\ntraining:\n  non_finite: skip\n  max_skipped_steps: 3\n");
        assertEquals(dev.sparkvit.engine.NonFinitePolicy.skip(3), PretrainConfig.read(YamlConfig.load(file))
                .get(NON_FINITE_POLICY));
        String mode = error("data:\n  dataset: DS\ntraining:\n  non_finite: ignore\n");
        assertTrue(mode.contains("pretrain.yaml:4") && mode.contains("training.non_finite = ignore")
                && mode.contains("stop") && mode.contains("skip"), mode);
        String bound = error("data:\n  dataset: DS\n", "training.max_skipped_steps=0");
        assertTrue(bound.contains("training.max_skipped_steps = 0") && bound.contains("[1, 10000]"), bound);
    }

    @Test
    void anUnknownKeyNamesFileLineAndTheKnownKeys() throws IOException {
        String message = error("data:\n  dataset: DS\ntraining:\n  epochs: 3\n  learning_rte: 0.1\n");
        assertTrue(message.contains("pretrain.yaml:5") && message.contains("unknown key training.learning_rte")
                && message.contains("learning_rate"), message);
    }

    @Test
    void wrongTypesAndRangesNameKeyValueAndFile() throws IOException {
        String type = error("data:\n  dataset: DS\ntraining:\n  epochs: many\n");
        assertTrue(type.contains("pretrain.yaml:4") && type.contains("training.epochs = many")
                && type.contains("an integer"), type);
        String range = error("data:\n  dataset: DS\ntemperature: -1\n");
        assertTrue(range.contains("temperature = -1") && range.contains("(0.0, 100.0]"), range);
        String choice = error("data:\n  dataset: DS\ntraining:\n  optimizer: lamb\n");
        assertTrue(choice.contains("training.optimizer = lamb") && choice.contains("adamw, sgd"), choice);
        String section = error("data: DS\n");
        assertTrue(section.contains("data = ") && section.contains("a section"), section);
        String flag = error("data:\n  dataset: DS\ntraining:\n  freezeout:\n    enabled: maybe\n");
        assertTrue(flag.contains("training.freezeout.enabled = maybe") && flag.contains("true or false"), flag);
    }

    @Test
    void missingAndNonexistentPathsAreNamed() throws IOException {
        String missing = error("training:\n  epochs: 3\n");
        assertTrue(missing.contains("data.dataset is required"), missing);
        String absent = error("data:\n  dataset: /no/such/dataset\n");
        assertTrue(absent.contains("data.dataset = /no/such/dataset") && absent.contains("not a folder"), absent);
        ConfigException file = assertThrows(ConfigException.class, () -> YamlConfig.load(tmp.resolve("nope.yaml")));
        assertTrue(file.getMessage().contains("nope.yaml does not exist"), file.getMessage());
    }

    @Test
    void crossFieldMalformedAndDuplicateKeys() throws IOException {
        String warmup = error("data:\n  dataset: DS\ntraining:\n  epochs: 3\n  warmup_epochs: 3\n");
        assertTrue(warmup.contains("training.warmup_epochs = 3") && warmup.contains("less than training.epochs"),
                warmup);
        String malformed = error("data:\n  dataset: DS\n training: [\n");
        assertTrue(malformed.contains("pretrain.yaml:") && malformed.contains("not valid YAML"), malformed);
        String duplicate = error("data:\n  dataset: DS\ntemperature: 0.1\ntemperature: 0.2\n");
        assertTrue(duplicate.contains("pretrain.yaml:4") && duplicate.contains("temperature appears twice"),
                duplicate);
    }

    @Test
    void overridesApplyAndBadOverridesAreNamed() throws IOException {
        Path file = write("data:\n  dataset: DS\ntraining:\n  epochs: 3\n");
        PretrainSettings settings = PretrainConfig.read(YamlConfig.load(file).with(List.of("training.epochs=7",
                "training.freezeout.enabled=true")));
        assertEquals(7, settings.get(EPOCHS));
        assertTrue(settings.get(FREEZEOUT).enabled());
        String bad = error("data:\n  dataset: DS\n", "training.epochs=0");
        assertTrue(bad.contains("--set training.epochs") && bad.contains("training.epochs = 0"), bad);
        String noEquals = error("data:\n  dataset: DS\n", "training.epochs");
        assertTrue(noEquals.contains("expected key.path=value"), noEquals);
        String intoValue = error("data:\n  dataset: DS\n", "data.dataset.x=1");
        assertTrue(intoValue.contains("data.dataset is a value"), intoValue);
        String unknown = error("data:\n  dataset: DS\n", "training.epoch=3");
        assertTrue(unknown.contains("--set training.epoch") && unknown.contains("unknown key training.epoch"),
                unknown);
    }

    @Test
    void theFlatEmaSpellingsAreOneLineNamingTheNestedKey() throws IOException {
        String file = tmp.resolve("pretrain.yaml").toString();
        assertEquals(file + ":4: training.ema_decay is now training.ema.decay",
                error("data:\n  dataset: DS\ntraining:\n  ema_decay: 0.99\n"));
        assertEquals(file + ":4: training.ema_warmup is now training.ema.warmup",
                error("data:\n  dataset: DS\ntraining:\n  ema_warmup: true\n"));
    }
}
