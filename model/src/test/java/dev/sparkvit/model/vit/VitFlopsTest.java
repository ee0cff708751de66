package dev.sparkvit.model.vit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class VitFlopsTest {

    /**
     * vit_tiny_patch4_32 with 10 classes, by hand: 64 patches of 3 x 4 x 4 = 48 values, 65 tokens, width 192, MLP 768,
     * 12 blocks. Multiply-adds per image: patch embedding 64 * 48 * 192 = 589,824; per block qkv 65 * 192 * 576 =
     * 7,188,480, scores and weighted sum 65 * 65 * 192 = 811,200 each, projection 65 * 192 * 192 = 2,396,160, MLP
     * 2 * 65 * 192 * 768 = 19,169,280, so 30,376,320 per block and 364,515,840 for 12; head 192 * 10 = 1,920. Total
     * 365,107,584 multiply-adds = 730,215,168 FLOPs forward (what torch's FlopCounterMode reports for the reference
     * model in bench/python/vit_step.py), 2,190,645,504 for a training step.
     */
    @Test
    void tinyPatch4At32PixelsMatchesTheHandCount() {
        VitFlops flops = VitFlops.of(VitPresets.get("vit_tiny_patch4_32"), Head.classifier(10));
        assertEquals(2L * 589_824, flops.patchEmbed());
        assertEquals(2L * 12 * 7_188_480, flops.qkv());
        assertEquals(2L * 12 * 811_200, flops.attentionScores());
        assertEquals(2L * 12 * 811_200, flops.attentionValues());
        assertEquals(2L * 12 * 2_396_160, flops.projection());
        assertEquals(2L * 12 * 19_169_280, flops.mlp());
        assertEquals(2L * 1_920, flops.head());
        assertEquals(730_215_168L, flops.forward());
        assertEquals(2_190_645_504L, flops.training());
    }

    /**
     * vit_tiny_patch16_224, 1000 classes: 196 patches of 768 values, 197 tokens. Multiply-adds: 196 * 768 * 192 =
     * 28,901,376; per block 197 * 192 * 576 + 2 * 197^2 * 192 + 197 * 192 * 192 + 2 * 197 * 192 * 768 = 21,786,624 +
     * 14,902,656 + 7,262,208 + 58,097,664 = 102,049,152, so 1,224,589,824 for 12; head 192,000. Total 1,253,683,200
     * (timm lists 1.26 GMACs for this model).
     */
    @Test
    void tinyPatch16At224PixelsMatchesTheHandCount() {
        VitFlops flops = VitFlops.of(VitPresets.get("vit_tiny_patch16_224"), Head.classifier(1000));
        assertEquals(2L * 1_253_683_200L, flops.forward());
        assertEquals(6L * 1_253_683_200L, flops.training());
    }

    @Test
    void forwardFlopsAreTwiceTheSummarysMultiplyAdds() {
        for (String name : VitPresets.names()) {
            VitConfig config = VitPresets.get(name);
            for (Head head : new Head[] {Head.none(), Head.classifier(7), Head.projection(128)}) {
                assertEquals(2 * ModelSummary.of(config, head).multiplyAdds(), VitFlops.of(config, head).forward(),
                        name + " " + head);
            }
        }
    }
}
