package dev.sparkvit.model.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.ModuleParameters;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.testing.TestTensors;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * LayerNorm's parameter gradients are the same whether backward() takes the sums updateGradInput stashed, or
 * accGradParameters computes them itself (called alone, or with another gradOutput than the stashed one).
 */
class LayerNormTest {

    private static float[][] gradients(LayerNorm norm) {
        List<Tensor<Float>> grads = ModuleParameters.gradients(norm);
        return new float[][] {Tensors.toArray(grads.get(0)), Tensors.toArray(grads.get(1))};
    }

    @Test
    void stashedAndRecomputedParameterGradientsAgree() {
        Random random = new Random(3);
        LayerNorm norm = new LayerNorm(24);
        TestTensors.randomizeParameters(norm, random, 0.0, 0.5);
        Tensor<Float> x = TestTensors.randn(random, 1.0, 3, 37, 24); // several chunks of rows
        Tensor<Float> g = TestTensors.randn(random, 1.0, 3, 37, 24);
        Tensor<Float> other = TestTensors.randn(random, 1.0, 3, 37, 24);

        norm.forward(x);
        norm.zeroGradParameters();
        norm.backward(x, g);
        float[][] viaBackward = gradients(norm);

        norm.forward(x);
        norm.zeroGradParameters();
        norm.accGradParameters(x, g);
        float[][] alone = gradients(norm);

        norm.forward(x);
        norm.zeroGradParameters();
        norm.updateGradInput(x, other);
        norm.accGradParameters(x, g);
        float[][] afterAnotherGradient = gradients(norm);

        for (int i = 0; i < 2; i++) {
            assertArrayEquals(viaBackward[i], alone[i], 1e-5f);
            assertArrayEquals(viaBackward[i], afterAnotherGradient[i], 1e-5f);
        }
    }
}
