package dev.sparkvit.model.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.Tensors;
import org.junit.jupiter.api.Test;

/** LayerScale's contract from the class reference (seed 001). */
class LayerScaleTest {

    @Test
    void everyGammaStartsAtTheInitValueWithTheDocumentedDefault() {
        assertArrayEquals(new float[] {1e-4f, 1e-4f, 1e-4f}, Tensors.toArray(new LayerScale(3).gamma()));
        assertArrayEquals(new float[] {0.5f, 0.5f}, Tensors.toArray(new LayerScale(2, 0.5).gamma()));
    }

    @Test
    void scalesEachChannelOfAChannelsLastImage() {
        LayerScale ls = new LayerScale(2, 1.0);
        ls.gamma().setValue(1, 2f);
        ls.gamma().setValue(2, -3f);
        // (B=1, H=1, W=2, C=2)
        Tensor<Float> x = Tensors.of(new float[] {1, 1, 4, 5}, 1, 1, 2, 2);
        Tensor<Float> y = ls.forward(x);
        assertArrayEquals(new int[] {1, 1, 2, 2}, Tensors.shape(y));
        assertArrayEquals(new float[] {2, -3, 8, -15}, Tensors.toArray(y));
    }

    @Test
    void wrongLastDimensionNamesBothSizes() {
        LayerScale ls = new LayerScale(768);
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> ls.updateOutput(Tensors.zeros(2, 196, 384)));
        assertTrue(error.getMessage().contains("dim=768"), error.getMessage());
        assertTrue(error.getMessage().contains("last dimension is 384"), error.getMessage());
        // DLlib's forward() wraps every layer exception in its own InvalidOperationException; the message survives
        Exception wrapped = assertThrows(Exception.class, () -> ls.forward(Tensors.zeros(2, 196, 384)));
        assertTrue(wrapped.getMessage().contains("last dimension is 384"), wrapped.getMessage());
    }

    @Test
    void flopCountIsTokensTimesDim() {
        assertEquals(196L * 768, new LayerScale(768).flopCount(196));
    }

    @Test
    void gammaIsExcludedFromWeightDecay() {
        LayerScale ls = new LayerScale(4);
        assertEquals("gamma", ls.parameterNames().get(0));
        assertTrue(ls.excludedFromWeightDecay(0));
    }

    @Test
    void frozenGammaAccumulatesNoGradient() {
        LayerScale ls = new LayerScale(2, 1.0);
        ls.setScaleW(0);
        Tensor<Float> x = Tensors.of(new float[] {1, 2}, 1, 2);
        ls.forward(x);
        ls.backward(x, Tensors.of(new float[] {1, 1}, 1, 2));
        assertArrayEquals(new float[] {0, 0}, Tensors.toArray(ls.parameters()._2()[0]));
    }
}
