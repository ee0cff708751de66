package dev.sparkvit.model.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.Tensors;
import org.junit.jupiter.api.Test;

/** BatchNorm's forward as torch.nn.BatchNorm1d in training mode computes it. */
class BatchNormTest {

    @Test
    void columnsGetTheBiasAsMeanAndTheWeightAsBiasedStd() {
        float[] values = {1, 100, 2, 100.5f, 4, 99, 9, 101};
        BatchNorm bn = new BatchNorm(2);
        bn.parameters()._1()[0].setValue(1, 2f);
        bn.parameters()._1()[0].setValue(2, 0.5f);
        bn.parameters()._1()[1].setValue(1, -1f);
        bn.parameters()._1()[1].setValue(2, 3f);
        float[] y = Tensors.toArray(bn.forward(Tensors.of(values, 4, 2)));
        // column 0: mean 4, biased variance (9 + 4 + 0 + 25) / 4 = 9.5
        assertEquals((1 - 4) / Math.sqrt(9.5 + 1e-5) * 2 - 1, y[0], 1e-5);
        assertEquals((9 - 4) / Math.sqrt(9.5 + 1e-5) * 2 - 1, y[6], 1e-5);
        // column 1: mean 100.125, biased variance (0.015625 + 0.140625 + 1.265625 + 0.765625) / 4
        double var = (0.015625 + 0.140625 + 1.265625 + 0.765625) / 4;
        assertEquals((99 - 100.125) / Math.sqrt(var + 1e-5) * 0.5 + 3, y[5], 1e-5);
    }

    @Test
    void refusesASingleRowOrTokens() {
        BatchNorm bn = new BatchNorm(3);
        Tensor<Float> one = Tensors.zeros(1, 3);
        assertThrows(IllegalArgumentException.class, () -> bn.updateOutput(one));
        assertThrows(IllegalArgumentException.class, () -> bn.updateOutput(Tensors.zeros(2, 4, 3)));
    }
}
