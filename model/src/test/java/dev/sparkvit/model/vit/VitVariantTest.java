package dev.sparkvit.model.vit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sparkvit.model.layers.TokenPooling;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A weights file's LayerScale and pooling are read from its tensor names, whatever its metadata says. */
class VitVariantTest {
    private static final VitConfig NANO = VitPresets.get("vit_nano_patch4_32");

    @Test
    void everyVariantIsRecognisedFromTheTensorsOfItsModel() {
        for (VitVariant variant : new VitVariant[] {new VitVariant(0, TokenPooling.Mode.CLASS_TOKEN),
                new VitVariant(0, TokenPooling.Mode.MEAN), new VitVariant(0.25, TokenPooling.Mode.CLASS_TOKEN),
                new VitVariant(1e-5, TokenPooling.Mode.MEAN)}) {
            VisionTransformer vit = VisionTransformer.encoderOnly(variant.applyTo(NANO), 1);
            VitVariant read = VitVariant.ofTensors(vit.namedParameters().keySet(), variant.metadata(), 0.1);
            assertEquals(variant, read, variant.toString());
            // without metadata (a timm export) the initial gamma is the fallback: the weights replace it
            VitVariant bare = VitVariant.ofTensors(vit.namedParameters().keySet(), Map.of(), 0.1);
            assertEquals(variant.layerScale(), bare.layerScale());
            assertEquals(variant.pooling(), bare.pooling());
        }
    }

    @Test
    void everyPresetFollowsTheDepthRuleForLayerScale() {
        for (String name : VitPresets.names()) {
            VitConfig preset = VitPresets.get(name);
            assertEquals(LayerScaleDefaults.initFor(preset.depth()).isPresent(), preset.useLayerScale(), name);
            LayerScaleDefaults.initFor(preset.depth()).ifPresent(init -> assertEquals(init, preset.layerScaleInit(),
                    name));
        }
        assertEquals(false, VitPresets.get("vit_nano_patch4_32").useLayerScale(), "4 blocks: off");
    }
}
