package dev.sparkvit.model.vit;

import dev.sparkvit.model.layers.TokenPooling;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Named architectures, as data (timm's model names). The 224px presets have the published ViT widths; LayerScale
 * follows {@link LayerScaleDefaults}, except the tiny test/demo preset, which turns it on at 0.1 (CaiT's value for
 * networks of up to 18 blocks) so that tests and the demo exercise it with branches that still learn quickly.
 */
public final class VitPresets {
    private static final Map<String, VitConfig> PRESETS = new LinkedHashMap<>();

    static {
        PRESETS.put("vit_nano_patch4_32", new VitConfig(32, 4, 3, 64, 4, 4, 2.0, 0.0, true, 0.1,
                TokenPooling.Mode.CLASS_TOKEN));
        PRESETS.put("vit_tiny_patch4_32", standard(32, 4, 192, 12, 3));
        PRESETS.put("vit_tiny_patch16_224", standard(224, 16, 192, 12, 3));
        PRESETS.put("vit_small_patch16_224", standard(224, 16, 384, 12, 6));
        PRESETS.put("vit_base_patch16_224", standard(224, 16, 768, 12, 12));
    }

    private VitPresets() {
    }

    private static VitConfig standard(int imgSize, int patch, int dim, int depth, int heads) {
        OptionalDouble layerScale = LayerScaleDefaults.initFor(depth);
        return new VitConfig(imgSize, patch, 3, dim, depth, heads, 4.0, 0.0, layerScale.isPresent(),
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
