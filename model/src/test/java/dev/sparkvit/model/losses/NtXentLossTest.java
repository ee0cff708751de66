package dev.sparkvit.model.losses;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.testing.LossGradientCheck;
import dev.sparkvit.testing.TestTensors;
import java.util.Random;
import org.junit.jupiter.api.Test;

class NtXentLossTest {
    private static final Tensor<Float> NO_TARGET = Tensors.zeros(1);

    @Test
    void handComputedValue() {
        // rows: image 0 view 1, image 1 view 1, image 0 view 2, image 1 view 2 (unnormalised on purpose)
        Tensor<Float> x = Tensors.of(new float[] {2, 0, 0, 3, 5, 0, 0, 1}, 4, 2);
        // each row: similarity 1 with its positive, 0 with the two negatives; temperature 1
        double expected = Math.log(2 + Math.E) - 1;
        assertEquals(expected, new NtXentLoss(1.0).forward(x, NO_TARGET), 1e-6);
        // temperature 0.5 doubles every similarity
        assertEquals(Math.log(2 + Math.exp(2)) - 2, new NtXentLoss(0.5).forward(x, NO_TARGET), 1e-6);
    }

    @Test
    void aSingleImageHasNoNegativesAndZeroLoss() {
        Tensor<Float> x = TestTensors.randn(new Random(1), 1.0, 2, 5);
        NtXentLoss loss = new NtXentLoss();
        assertEquals(0f, loss.forward(x, NO_TARGET), 1e-6f);
        assertArrayEquals(new float[10], Tensors.toArray(loss.backward(x, NO_TARGET)), 1e-6f);
    }

    @Test
    void alignedPairsCostLessThanRandomOnes() {
        Tensor<Float> random = TestTensors.randn(new Random(2), 1.0, 8, 6);
        float[] aligned = Tensors.toArray(random).clone();
        System.arraycopy(aligned, 0, aligned, 4 * 6, 4 * 6); // second views equal the first views
        NtXentLoss loss = new NtXentLoss(0.5);
        assertTrue(loss.forward(Tensors.of(aligned, 8, 6), NO_TARGET) < loss.forward(random, NO_TARGET));
    }

    @Test
    void finiteDifferenceGradientAtTheGuideAndSimclrTemperatures() {
        for (double temperature : new double[] {0.07, 0.5}) {
            NtXentLoss loss = new NtXentLoss(temperature);
            Tensor<Float> x = TestTensors.randn(new Random(3), 1.0, 6, 5);
            LossGradientCheck.Result check = LossGradientCheck.run(loss, x, NO_TARGET, 1e-3);
            assertTrue(check.maxNumerical() > 0, "non-vacuous");
            assertTrue(check.relativeError() < 1e-2, "temperature " + temperature + ": relative error "
                    + check.relativeError());
        }
    }

    @Test
    void rejectsAnOddNumberOfRowsAndCountsNegatives() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> new NtXentLoss().updateOutput(Tensors.zeros(3, 4), NO_TARGET));
        assertTrue(error.getMessage().contains("[3, 4]"), error.getMessage());
        assertEquals(62, NtXentLoss.negativesPerAnchor(32));
        assertThrows(IllegalArgumentException.class, () -> new NtXentLoss(0));
    }
}
