package dev.sparkvit.model.vit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatTypes;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.model.layers.TokenPooling;
import dev.sparkvit.model.optim.FreezeOutSchedule;
import dev.sparkvit.testing.TestTensors;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** With FreezeOut, the encoder computes no gradient for the frozen prefix, and the same gradients as before elsewhere. */
class EncoderFreezeOutTest {
    private static final VitConfig CONFIG = new VitConfig(8, 4, 3, 16, 3, 2, 2.0, 0.0, true, 0.1,
            TokenPooling.Mode.CLASS_TOKEN);
    // 3 blocks over 10 iterations: block 0 (and the stem) freeze at 5, block 1 at 8 (linear 0.5 .. 1.0)
    private static final FreezeOutSchedule SCHEDULE = new FreezeOutSchedule(3, 0.5,
            FreezeOutSchedule.Scaling.LINEAR, 10, 1, 0.1, false);

    private static double gradNorm(Map<String, Tensor<Float>> grads, String prefix) {
        double sum = 0;
        for (Map.Entry<String, Tensor<Float>> e : grads.entrySet()) {
            if (e.getKey().startsWith(prefix)) {
                for (float v : Tensors.toArray(e.getValue())) {
                    sum += v * v;
                }
            }
        }
        return Math.sqrt(sum);
    }

    /** Runs iterations forward/backward and returns the gradients of the last one. */
    private static Map<String, Tensor<Float>> gradientsAtIteration(VisionTransformer vit, int iteration) {
        vit.module().training();
        Tensor<Float> images = TestTensors.randn(new Random(1), 1.0, 2, 3, 8, 8);
        Tensor<Float> grad = TestTensors.randn(new Random(2), 1.0, 2, 4);
        for (int i = 0; i <= iteration; i++) {
            vit.module().zeroGradParameters();
            vit.module().forward(images);
            vit.module().backward(images, grad);
        }
        return vit.namedGradients();
    }

    @Test
    void backwardSkipsExactlyTheFrozenPrefix() {
        VisionTransformer plain = VisionTransformer.classifier(CONFIG, 4, 3);
        VisionTransformer frozen = VisionTransformer.withFreezeOut(CONFIG, Head.classifier(4), 3, SCHEDULE);

        Map<String, Tensor<Float>> before = gradientsAtIteration(frozen, 4); // iteration 4: nothing frozen yet
        assertTrue(gradNorm(before, "blocks.0.") > 0 && gradNorm(before, "patch_embed") > 0);

        frozen.encoder().setIteration(0);
        Map<String, Tensor<Float>> after = gradientsAtIteration(frozen, 5); // iteration 5: stem + block 0 frozen
        assertEquals(0.0, gradNorm(after, "blocks.0."));
        assertEquals(0.0, gradNorm(after, "patch_embed"));
        assertEquals(0.0, gradNorm(after, "cls_token") + gradNorm(after, "pos_embed"));
        Map<String, Tensor<Float>> reference = gradientsAtIteration(plain, 5);
        for (String name : reference.keySet()) {
            if (name.startsWith("blocks.1.") || name.startsWith("blocks.2.") || name.startsWith("head")) {
                assertEquals(0.0, TestTensors.maxAbsDiff(reference.get(name), after.get(name)), 1e-6, name);
            }
        }

        frozen.encoder().setIteration(0);
        Map<String, Tensor<Float>> later = gradientsAtIteration(frozen, 8); // block 1 frozen too
        assertEquals(0.0, gradNorm(later, "blocks.1."));
        assertTrue(gradNorm(later, "blocks.2.") > 0);
    }

    @Test
    void evaluationIsUnaffected() {
        VisionTransformer plain = VisionTransformer.classifier(CONFIG, 4, 3);
        VisionTransformer frozen = VisionTransformer.withFreezeOut(CONFIG, Head.classifier(4), 3, SCHEDULE);
        plain.module().evaluate();
        frozen.module().evaluate();
        Tensor<Float> images = TestTensors.randn(new Random(5), 1.0, 2, 3, 8, 8);
        assertEquals(0.0, TestTensors.maxAbsDiff(plain.module().forward(images).toTensor(FloatTypes.NUMERIC),
                frozen.module().forward(images).toTensor(FloatTypes.NUMERIC)));
        assertEquals(0, frozen.encoder().iteration(), "evaluation passes do not count as iterations");
    }
}
