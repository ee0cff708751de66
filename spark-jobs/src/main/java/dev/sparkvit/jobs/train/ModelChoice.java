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
 * @param imgSize the side of the images the model takes ({@code data.img_size}), or null for the preset's own: the
 *     training views are resized to it from whatever size the dataset stores
 */
public record ModelChoice(String preset, String layerScale, String pooling, Integer imgSize) {
    /** The word that keeps the preset's own setting. */
    public static final String PRESET = "preset";

    /** Every choice but the image size ({@code data.img_size}: the preset's). */
    public ModelChoice(String preset, String layerScale, String pooling) {
        this(preset, layerScale, pooling, null);
    }

    /**
     * Reads {@code model.preset}, {@code model.layer_scale}, {@code model.pooling} and {@code data.img_size}
     * ({@code preset}, the default: the preset's own; or a side in pixels, a multiple of the preset's patch size).
     */
    public static ModelChoice read(ConfigSection model, ConfigSection data, String source) {
        String preset = TrainingConfig.preset(model);
        String layerScale = model.choiceOrNumber("layer_scale", PRESET, 0, true, 10, PRESET, "off");
        String pooling = model.choice("pooling", PRESET, PRESET, "class_token", "mean");
        String size = data.choiceOrNumber("img_size", PRESET, 1, false, 4096, PRESET);
        Integer imgSize = null;
        if (!size.equals(PRESET)) {
            double value = Double.parseDouble(size);
            int patch = VitPresets.get(preset).patchSize();
            if (value != Math.rint(value) || (int) value % patch != 0) {
                throw new ConfigException(source + ": " + data.describe("img_size") + " is not a multiple of the "
                        + "patch size " + patch + " of model.preset = " + preset);
            }
            imgSize = (int) value;
        }
        return new ModelChoice(preset, layerScale, pooling, imgSize);
    }

    /** Only a preset, every choice the preset's own. */
    public static ModelChoice of(String preset) {
        return new ModelChoice(preset, PRESET, PRESET);
    }

    /** The side of the images the model takes: {@code data.img_size} when set, else the preset's. */
    public int imageSize() {
        return imgSize != null ? imgSize : VitPresets.get(preset).imgSize();
    }

    /** The architecture: the preset at {@link #imageSize} with the choices that are set. */
    public VitConfig config() {
        return config(imageSize());
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
        if (imgSize != null) {
            run.put("img_size", String.valueOf(imgSize));
        }
        return run;
    }
}
