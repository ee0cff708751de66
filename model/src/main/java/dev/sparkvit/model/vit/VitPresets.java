package dev.sparkvit.model.vit;

import dev.sparkvit.model.layers.TokenPooling;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Named architectures, as data (timm's model names). The 224px presets have the published ViT widths; every preset's
 * LayerScale follows the design documents' depth rule ({@link LayerScaleDefaults}: off below 12 blocks), so the
 * 4-block demo preset has none. (With LayerScale 0.1 its class token started nearly image-independent, projection
 * cosine 0.9999 on the digits, and SimCLR never left its chance loss: docs/PRETRAINING.md.) {@code model.layer_scale}
 * and {@code model.pooling} change any preset.
 */
public final class VitPresets {
    private static final Map<String, VitConfig> PRESETS = new LinkedHashMap<>();

    static {
        PRESETS.put("vit_nano_patch4_32", standard(32, 4, 64, 4, 4, 2.0));
        PRESETS.put("vit_tiny_patch4_32", standard(32, 4, 192, 12, 3, 4.0));
        PRESETS.put("vit_tiny_patch16_224", standard(224, 16, 192, 12, 3, 4.0));
        PRESETS.put("vit_small_patch16_224", standard(224, 16, 384, 12, 6, 4.0));
        PRESETS.put("vit_base_patch16_224", standard(224, 16, 768, 12, 12, 4.0));
    }

    private VitPresets() {
    }

    private static VitConfig standard(int imgSize, int patch, int dim, int depth, int heads, double mlpRatio) {
        OptionalDouble layerScale = LayerScaleDefaults.initFor(depth);
        return new VitConfig(imgSize, patch, 3, dim, depth, heads, mlpRatio, 0.0, layerScale.isPresent(),
                layerScale.orElse(0.0), TokenPooling.Mode.CLASS_TOKEN);
    }

    /** The preset's config. @throws IllegalArgumentException naming the known presets when unknown */
    public static VitConfig get(String name) {
        VitConfig config = PRESETS.get(name);
        if (config == null) {
            throw new IllegalArgumentException("unknown model preset '" + name + "'; known presets: "
                    + String.join(", ", PRESETS.keySet()));
        }
        return config;
    }

    /** All preset names, in registry order. */
    public static Iterable<String> names() {
        return PRESETS.keySet();
    }
}
