package dev.sparkvit.jobs.train;

import dev.sparkvit.jobs.finetune.FinetuneKeys;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.MODEL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.config.ConfigException;
import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.jobs.finetune.FinetuneConfig;
import dev.sparkvit.jobs.pretrain.PretrainConfig;
import dev.sparkvit.jobs.pretrain.PretrainSettings;
import dev.sparkvit.model.layers.TokenPooling;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.model.vit.VitPresets;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** model.layer_scale and model.pooling change any preset, in both jobs, and are checked against weights. */
class ModelChoiceTest {
    @TempDir
    Path tmp;

    private PretrainSettings pretrain(String... sets) {
        List<String> all = new java.util.ArrayList<>(List.of("data.dataset=" + tmp));
        all.addAll(List.of(sets));
        return PretrainConfig.read(YamlConfig.parse("p.yaml", new StringReader("")).with(all));
    }

    @Test
    void presetKeepsThePresetsArchitecture() {
        for (String preset : VitPresets.names()) {
            VitConfig config = pretrain("model.preset=" + preset).get(MODEL).config(32 * 7);
            VitConfig expected = VitPresets.get(preset).withImgSize(32 * 7);
            assertEquals(expected, config, preset);
        }
    }

    @Test
    void layerScaleAndPoolingChangeEveryPreset() {
        for (String preset : VitPresets.names()) {
            VitConfig off = pretrain("model.preset=" + preset, "model.layer_scale=off", "model.pooling=mean").get(MODEL)
                    .config(224);
            assertFalse(off.useLayerScale(), preset);
            assertEquals(TokenPooling.Mode.MEAN, off.pooling(), preset);
            VitConfig on = pretrain("model.preset=" + preset, "model.layer_scale=1e-4",
                    "model.pooling=class_token").get(MODEL).config(224);
            assertTrue(on.useLayerScale(), preset);
            assertEquals(1e-4, on.layerScaleInit(), preset);
            assertEquals(TokenPooling.Mode.CLASS_TOKEN, on.pooling(), preset);
        }
    }

    @Test
    void wrongValuesNameTheKey() {
        ConfigException word = assertThrows(ConfigException.class, () -> pretrain("model.layer_scale=maybe"));
        assertTrue(word.getMessage().contains("model.layer_scale = maybe") && word.getMessage().contains("off"),
                word.getMessage());
        ConfigException zero = assertThrows(ConfigException.class, () -> pretrain("model.layer_scale=0"));
        assertTrue(zero.getMessage().contains("model.layer_scale = 0"), zero.getMessage());
        ConfigException pool = assertThrows(ConfigException.class, () -> pretrain("model.pooling=max"));
        assertTrue(pool.getMessage().contains("model.pooling = max"), pool.getMessage());
    }

    @Test
    void choicesThatAreSetEnterTheFingerprintAndPresetOnesDoNot() {
        assertEquals(null, pretrain().fingerprint().get("layer_scale"));
        assertEquals("off", pretrain("model.layer_scale=off").fingerprint().get("layer_scale"));
        assertEquals("mean", pretrain("model.pooling=mean").fingerprint().get("pooling"));
    }

    @Test
    void aChoiceAgainstTheStartingWeightsIsAnError() {
        VitConfig lsMean = VitPresets.get("vit_nano_patch4_32").withLayerScale(true, 0.1)
                .withPooling(TokenPooling.Mode.MEAN);
        assertEquals(lsMean, ModelChoice.of("vit_nano_patch4_32").matching(lsMean, "w.safetensors", "f.yaml"));
        ConfigException ls = assertThrows(ConfigException.class, () -> new ModelChoice("vit_nano_patch4_32", "off",
                "preset").matching(lsMean, "w.safetensors", "f.yaml"));
        assertTrue(ls.getMessage().contains("model.layer_scale = off") && ls.getMessage().contains("w.safetensors")
                && ls.getMessage().contains("LayerScale on"), ls.getMessage());
        ConfigException pool = assertThrows(ConfigException.class, () -> new ModelChoice("vit_nano_patch4_32",
                "preset", "class_token").matching(lsMean, "w.safetensors", "f.yaml"));
        assertTrue(pool.getMessage().contains("model.pooling = class_token")
                && pool.getMessage().contains("mean-pooling"), pool.getMessage());
    }

    @Test
    void finetuneReadsTheSameKeys() {
        var settings = FinetuneConfig.read(YamlConfig.parse("f.yaml", new StringReader("")).with(List.of(
                "data.dataset=" + tmp, "model.layer_scale=off", "model.pooling=mean")));
        VitConfig config = settings.get(FinetuneKeys.MODEL).config(32);
        assertFalse(config.useLayerScale());
        assertEquals(TokenPooling.Mode.MEAN, config.pooling());
    }
}
