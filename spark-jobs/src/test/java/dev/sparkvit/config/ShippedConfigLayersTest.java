package dev.sparkvit.config;

import dev.sparkvit.jobs.finetune.FinetuneKeys;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.jobs.finetune.FinetuneConfig;
import dev.sparkvit.jobs.finetune.FinetuneSettings;
import dev.sparkvit.jobs.pretrain.PretrainConfig;
import dev.sparkvit.jobs.pretrain.PretrainSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The layered conf/pretrain.yaml and conf/finetune.yaml give exactly the settings the flat files gave before
 * includes (copies of those kept under src/test/resources/config/flat-*.yaml), and the conf/ fragments read.
 */
class ShippedConfigLayersTest {
    private static final Path CONF = Path.of("..", "conf");
    private static final Path FLAT = Path.of("src", "test", "resources", "config");

    @TempDir
    Path tmp;

    /** A settings record as text, with the file it came from left out (the one field that differs). */
    private static String withoutSource(Object settings, String source) {
        String text = settings.toString();
        assertTrue(text.contains("source=" + source), text);
        return text.replace("source=" + source, "source=");
    }

    @Test
    void layeredPretrainYamlReadsAsTheFlatOneDid() {
        List<String> sets = List.of("data.dataset=" + tmp);
        Path layered = CONF.resolve("pretrain.yaml");
        Path flat = FLAT.resolve("flat-pretrain.yaml");
        PretrainSettings now = PretrainConfig.read(YamlConfig.load(layered).with(sets));
        PretrainSettings before = PretrainConfig.read(YamlConfig.load(flat).with(sets));
        assertEquals(withoutSource(before, flat.toString()), withoutSource(now, layered.toString()));
        assertEquals(before.fingerprint(), now.fingerprint());
        assertTrue(YamlConfig.load(layered).root().section("model").describe("preset")
                .contains("model" + java.io.File.separator + "vit_nano.yaml:"), "the preset comes from the fragment");
    }

    @Test
    void layeredFinetuneYamlReadsAsTheFlatOneDid() {
        List<String> sets = List.of("data.dataset=" + tmp, "model.ssl_pretrained_path=null");
        Path layered = CONF.resolve("finetune.yaml");
        Path flat = FLAT.resolve("flat-finetune.yaml");
        // issue 18 left the recipe's keys to auto in the shipped file; set to the flat file's values, the layered
        // file reads as the flat one did
        List<String> flatRecipe = List.of("training.batch_size=64", "training.learning_rate=0.001",
                "training.weight_decay=0.05", "training.warmup_epochs=3", "model.drop_path_rate=0.1",
                "augmentations.severity=moderate", "training.use_mixup=true", "training.use_cutmix=true");
        List<String> layeredSets = new java.util.ArrayList<>(sets);
        layeredSets.addAll(flatRecipe);
        FinetuneSettings now = FinetuneConfig.read(YamlConfig.load(layered).with(layeredSets));
        FinetuneSettings before = FinetuneConfig.read(YamlConfig.load(flat).with(sets));
        assertEquals(withoutSource(before, flat.toString()), withoutSource(now, layered.toString()));
        assertEquals(before.fingerprint(), now.fingerprint());
        // the one value overridden above (its file does not exist here): the same text in both
        ConfigSection layeredModel = YamlConfig.load(layered).root().section("model");
        ConfigSection flatModel = YamlConfig.load(flat).root().section("model");
        assertEquals(flatModel.describe("ssl_pretrained_path").replaceAll(" \\(.*\\)$", ""),
                layeredModel.describe("ssl_pretrained_path").replaceAll(" \\(.*\\)$", ""));
    }

    /** A fine-tuning job file in tmp that includes {@code conf/augment/<name>.yaml}. */
    private FinetuneSettings withAugment(String name) throws IOException {
        Path job = tmp.resolve("finetune.yaml");
        Files.writeString(job, "include: [" + CONF.resolve("augment").resolve(name + ".yaml").toAbsolutePath()
                + "]\ndata:\n  dataset: " + tmp + "\n");
        return FinetuneConfig.read(YamlConfig.load(job));
    }

    @Test
    void theAugmentFragmentsSetSeverityAndMixing() throws IOException {
        FinetuneSettings light = withAugment("light");
        assertEquals("light", light.get(FinetuneKeys.SEVERITY));
        assertFalse(light.get(FinetuneKeys.MIXING).enabled());
        FinetuneSettings moderate = withAugment("moderate");
        assertEquals("moderate", moderate.get(FinetuneKeys.SEVERITY));
        assertEquals(new FinetuneSettings.Mixing(true, 0.8, true, 1.0), moderate.get(FinetuneKeys.MIXING));
        FinetuneSettings aggressive = withAugment("aggressive");
        assertEquals("aggressive", aggressive.get(FinetuneKeys.SEVERITY));
        assertTrue(aggressive.get(FinetuneKeys.MIXING).mixup() && aggressive.get(FinetuneKeys.MIXING).cutmix());
    }

    @Test
    void theModelFragmentsSetThePreset() throws IOException {
        for (String[] fragment : new String[][] {{"vit_nano", "vit_nano_patch4_32"},
                {"vit_tiny", "vit_tiny_patch4_32"}}) {
            Path job = tmp.resolve("pretrain.yaml");
            Files.writeString(job, "include: [" + CONF.resolve("model").resolve(fragment[0] + ".yaml")
                    .toAbsolutePath() + "]\ndata:\n  dataset: " + tmp + "\n");
            assertEquals(fragment[1], PretrainConfig.read(YamlConfig.load(job)).preset());
        }
    }
}
