package dev.sparkvit.model.vit;

import java.util.OptionalDouble;

/**
 * The design documents' recommended LayerScale settings by depth (seed 000, "Recommended Settings"): 1e-5 for a
 * 12-block ViT, 1e-6 for networks deeper than 18 blocks, and off for shallow ones (fewer than 12 blocks), where it
 * "may not provide significant benefit". Always overridable in the config.
 */
public final class LayerScaleDefaults {
    private LayerScaleDefaults() {
    }

    /** The recommended initial gamma for {@code depth} blocks, or empty where LayerScale is recommended off. */
    public static OptionalDouble initFor(int depth) {
        if (depth > 18) {
            return OptionalDouble.of(1e-6);
        }
        if (depth >= 12) {
            return OptionalDouble.of(1e-5);
        }
        return OptionalDouble.empty();
    }
}
