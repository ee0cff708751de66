package dev.sparkvit.model.vit;

import dev.sparkvit.model.layers.TokenPooling;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The two architecture choices a config may change on any preset: LayerScale (off, or on with an initial gamma) and
 * the pooling of tokens into the feature vector. Weights files record them as metadata ({@link #metadata}); a file
 * written elsewhere (a timm export) shows them by its tensor names ({@link #ofTensors}): {@code blocks.0.ls1.gamma}
 * exists only with LayerScale, and timm names the final norm {@code fc_norm} under mean pooling, {@code norm} under
 * class-token pooling.
 *
 * @param layerScaleInit the initial gamma, or 0 for LayerScale off
 * @param pooling class token or mean of the patch tokens
 */
public record VitVariant(double layerScaleInit, TokenPooling.Mode pooling) {
    /** Metadata key of the LayerScale choice: {@code off} or the initial gamma. */
    public static final String LAYER_SCALE_KEY = "layer_scale";
    /** Metadata key of the pooling: {@code class_token} or {@code mean}. */
    public static final String POOLING_KEY = "pooling";

    public VitVariant {
        if (!(layerScaleInit >= 0) || !Double.isFinite(layerScaleInit)) {
            throw new IllegalArgumentException("layer_scale init must be 0 (off) or positive, got " + layerScaleInit);
        }
        java.util.Objects.requireNonNull(pooling, "pooling");
    }

    /** The variant a resolved architecture has. */
    public static VitVariant of(VitConfig config) {
        return new VitVariant(config.useLayerScale() ? config.layerScaleInit() : 0, config.pooling());
    }

    public boolean layerScale() {
        return layerScaleInit > 0;
    }

    /** {@code base} with this variant's LayerScale and pooling. */
    public VitConfig applyTo(VitConfig base) {
        return base.withLayerScale(layerScale(), layerScaleInit).withPooling(pooling);
    }

    /** The metadata a weights file records for this variant. */
    public Map<String, String> metadata() {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(LAYER_SCALE_KEY, layerScale() ? String.valueOf(layerScaleInit) : "off");
        meta.put(POOLING_KEY, poolingName(pooling));
        return meta;
    }

    /**
     * The variant a file's tensors hold: LayerScale on when block 0 has gammas (initial value from the metadata when
     * recorded, else {@code fallbackInit}: the weights replace it anyway), mean pooling when the final norm is
     * {@code fc_norm}.
     */
    public static VitVariant ofTensors(Set<String> names, Map<String, String> metadata, double fallbackInit) {
        boolean layerScale = names.contains("blocks.0.ls1.gamma");
        double init = fallbackInit > 0 ? fallbackInit : 1.0;
        String recorded = metadata.get(LAYER_SCALE_KEY);
        if (layerScale && recorded != null) {
            try {
                double value = Double.parseDouble(recorded);
                if (value > 0 && Double.isFinite(value)) {
                    init = value;
                }
            } catch (NumberFormatException e) {
                // the tensors decide; a foreign or damaged value keeps the fallback
            }
        }
        TokenPooling.Mode pooling = names.contains("fc_norm.weight") ? TokenPooling.Mode.MEAN
                : TokenPooling.Mode.CLASS_TOKEN;
        return new VitVariant(layerScale ? init : 0, pooling);
    }

    /** {@code class_token} or {@code mean}, as configs and metadata spell them. */
    public static String poolingName(TokenPooling.Mode mode) {
        return mode.name().toLowerCase(Locale.ROOT);
    }

    /** The mode a config or metadata spelling names. @throws IllegalArgumentException for another word */
    public static TokenPooling.Mode pooling(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "class_token" -> TokenPooling.Mode.CLASS_TOKEN;
            case "mean" -> TokenPooling.Mode.MEAN;
            default -> throw new IllegalArgumentException("pooling " + name + " is not class_token or mean");
        };
    }

    @Override
    public String toString() {
        return "LayerScale " + (layerScale() ? String.valueOf(layerScaleInit) : "off") + ", "
                + poolingName(pooling) + " pooling";
    }
}
