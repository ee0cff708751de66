package dev.sparkvit.jobs.train;

import dev.sparkvit.config.ConfigException;
import dev.sparkvit.config.ConfigSection;
import dev.sparkvit.model.layers.TokenPooling;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.model.vit.VitPresets;
import dev.sparkvit.model.vit.VitVariant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code model} keys both training jobs share: {@code preset}, and the two architecture choices every preset
 * takes, {@code layer_scale} ({@code preset}: the preset's own; {@code off}; or an initial gamma, which turns it on)
 * and {@code pooling} ({@code preset}, {@code class_token} or {@code mean}).
 *
 * @param preset the preset name
 * @param layerScale "preset", "off" or the initial gamma as written
 * @param pooling "preset", "class_token" or "mean"
 */
public record ModelChoice(String preset, String layerScale, String pooling) {
    /** The word that keeps the preset's own setting. */
    public static final String PRESET = "preset";

    /** Reads {@code model.preset}, {@code model.layer_scale} and {@code model.pooling}. */
    public static ModelChoice read(ConfigSection model) {
        String preset = TrainingConfig.preset(model);
        String layerScale = model.choiceOrNumber("layer_scale", PRESET, 0, true, 10, PRESET, "off");
        String pooling = model.choice("pooling", PRESET, PRESET, "class_token", "mean");
        return new ModelChoice(preset, layerScale, pooling);
    }

    /** Only a preset, every choice the preset's own. */
    public static ModelChoice of(String preset) {
        return new ModelChoice(preset, PRESET, PRESET);
    }

    /** The architecture: the preset at {@code imgSize} with the choices that are set. */
    public VitConfig config(int imgSize) {
        return applyTo(VitPresets.get(preset).withImgSize(imgSize));
    }

    /** {@code base} with the choices that are set (the others stay as {@code base} has them). */
    public VitConfig applyTo(VitConfig base) {
        VitConfig config = base;
        if (layerScale.equals("off")) {
            config = config.withLayerScale(false, 0);
        } else if (!layerScale.equals(PRESET)) {
            config = config.withLayerScale(true, Double.parseDouble(layerScale));
        }
        if (!pooling.equals(PRESET)) {
            config = config.withPooling(VitVariant.pooling(pooling));
        }
        return config;
    }

    /**
     * The architecture of weights to start from ({@code fromFile}, read from a file), checked against the choices
     * that are set: a LayerScale or pooling that differs from the file's is an error naming the key and the file.
     */
    public VitConfig matching(VitConfig fromFile, String file, String source) {
        VitVariant held = VitVariant.of(fromFile);
        if (layerScale.equals("off") && held.layerScale() || !layerScale.equals("off") && !layerScale.equals(PRESET)
                && !held.layerScale()) {
            throw new ConfigException(source + ": model.layer_scale = " + layerScale + " but " + file + " holds an "
                    + "encoder with LayerScale " + (held.layerScale() ? "on" : "off") + "; set model.layer_scale: "
                    + PRESET + " to take the file's");
        }
        TokenPooling.Mode mode = fromFile.pooling();
        if (!pooling.equals(PRESET) && VitVariant.pooling(pooling) != mode) {
            throw new ConfigException(source + ": model.pooling = " + pooling + " but " + file + " holds a "
                    + VitVariant.poolingName(mode) + "-pooling encoder; set model.pooling: " + PRESET
                    + " to take the file's");
        }
        return fromFile;
    }

    /** The settings as text, for run fingerprints. */
    public Map<String, String> fingerprint() {
        Map<String, String> run = new LinkedHashMap<>();
        run.put("preset", preset);
        if (!layerScale.equals(PRESET)) {
            run.put("layer_scale", layerScale);
        }
        if (!pooling.equals(PRESET)) {
            run.put("pooling", pooling);
        }
        return run;
    }
}
