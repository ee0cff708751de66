package dev.sparkvit.model.vit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

class ModelSummaryTest {

    @Test
    void vitBase16MatchesThePublishedFigures() {
        ModelSummary summary = ModelSummary.of(VitPresets.get("vit_base_patch16_224"), Head.classifier(1000));
        // timm vit_base_patch16_224: 86,567,656 parameters without LayerScale; 2 x 768 gammas x 12 blocks on top
        assertEquals(86_567_656L + 18_432L, summary.parameters());
        // per block: qkv 197*768*2304 + scores and weighted sum 2*197^2*768 + proj 197*768^2 + MLP 2*197*768*3072
        // = 1,453,954,560; x 12, plus patch embedding 196*768*768 and head 768*1000
        assertEquals(12 * 1_453_954_560L + 115_605_504L + 768_000L, summary.multiplyAdds());
        assertEquals(17.6, summary.multiplyAdds() / 1e9, 0.05, "the published 17.6 GMACs");
        assertEquals(0.0213, summary.layerScaleSharePercent(), 0.0005);
        assertTrue(summary.render("vit_base_patch16_224").contains("86.59 M"), summary.render("x"));
    }

    @Test
    void layerScaleDefaultsFollowTheDesignDocuments() {
        assertEquals(OptionalDouble.of(1e-5), LayerScaleDefaults.initFor(12));
        assertEquals(OptionalDouble.of(1e-6), LayerScaleDefaults.initFor(24));
        assertEquals(OptionalDouble.empty(), LayerScaleDefaults.initFor(6));
        assertEquals(1e-5, VitPresets.get("vit_base_patch16_224").layerScaleInit());
    }
}
