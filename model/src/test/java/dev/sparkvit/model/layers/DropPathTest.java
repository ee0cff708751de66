package dev.sparkvit.model.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.StepContext;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.testing.TestTensors;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Stochastic depth in training: each sample is dropped or scaled by 1 / keep, backward applies the forward's mask,
 * the drop rate is the configured one, and the draws are a function of the input and the salt (reproducible).
 */
class DropPathTest {
    private static final int BATCH = 4000;
    private static final int PER = 6;

    @Test
    void backwardAppliesTheForwardMaskAndTheRateHolds() {
        DropPath dropPath = new DropPath(0.3, 11);
        dropPath.training();
        Tensor<Float> x = TestTensors.randn(new Random(1), 1.0, BATCH, 2, 3);
        float[] y = Tensors.toArray(dropPath.forward(x));
        Tensor<Float> dy = TestTensors.randn(new Random(2), 1.0, BATCH, 2, 3);
        float[] dx = Tensors.toArray(dropPath.backward(x, dy));
        float[] xs = Tensors.toArray(x);
        float[] dys = Tensors.toArray(dy);
        int dropped = 0;
        for (int b = 0; b < BATCH; b++) {
            float scale = y[b * PER] / xs[b * PER];
            assertTrue(Math.abs(scale) < 1e-6 || Math.abs(scale - 1 / 0.7f) < 1e-5, "sample " + b + " scale " + scale);
            for (int i = b * PER; i < (b + 1) * PER; i++) {
                assertEquals(scale * xs[i], y[i], 1e-5, "forward, sample " + b);
                assertEquals(scale * dys[i], dx[i], 1e-5, "backward, sample " + b);
            }
            dropped += scale == 0 ? 1 : 0;
        }
        double sigma = Math.sqrt(BATCH * 0.3 * 0.7);
        assertTrue(Math.abs(dropped - 0.3 * BATCH) < 4 * sigma, dropped + " of " + BATCH + " dropped, expected 30%");
    }

    @Test
    void drawsDependOnInputAndSaltOnly() {
        Tensor<Float> x = TestTensors.randn(new Random(3), 1.0, 64, 5);
        float[] first = run(new DropPath(0.5, 1), x);
        assertEquals(java.util.Arrays.toString(first), java.util.Arrays.toString(run(new DropPath(0.5, 1), x)));
        float[] otherSalt = run(new DropPath(0.5, 2), x);
        assertTrue(!java.util.Arrays.equals(first, otherSalt), "another salt must draw other masks");
    }

    /**
     * Inside a step the masks are keyed by (seed, iteration, global row, salt): a batch split over tasks, each with its
     * slice's key, draws the masks of one replica holding the whole batch, for a SimCLR batch (two views as blocks of
     * rows); the draws ignore the values, and another iteration or seed draws other masks.
     */
    @Test
    void stepDrawsAreTheWholeBatchsWhateverTheSplit() {
        int batch = 40;
        Tensor<Float> views = TestTensors.randn(new Random(5), 1.0, 2 * batch, 3);
        float[] whole = draw(views, StepContext.Draws.wholeBatch(9, 4, batch));
        int[] split = {7, 13, 20};
        float[] joined = new float[2 * batch * 3];
        int first = 0;
        for (int n : split) {
            Tensor<Float> slice = Tensors.zeros(2 * n, 3);
            slice.narrow(1, 1, n).copy(views.narrow(1, first + 1, n));
            slice.narrow(1, n + 1, n).copy(views.narrow(1, batch + first + 1, n));
            float[] part = draw(slice, new StepContext.Draws(9, 4, first, n, batch));
            System.arraycopy(part, 0, joined, first * 3, n * 3);
            System.arraycopy(part, n * 3, joined, (batch + first) * 3, n * 3);
            first += n;
        }
        assertArrayEquals(whole, joined, 0f, "three tasks' masks are one replica's");
        assertArrayEquals(mask(whole), mask(draw(views.clone().mul(2f), StepContext.Draws.wholeBatch(9, 4, batch))),
                "the draws do not depend on the values");
        assertTrue(!Arrays.equals(mask(whole), mask(draw(views, StepContext.Draws.wholeBatch(9, 5, batch)))),
                "another iteration draws other masks");
        assertTrue(!Arrays.equals(mask(whole), mask(draw(views, StepContext.Draws.wholeBatch(10, 4, batch)))),
                "another seed draws other masks");
        IllegalStateException ragged = assertThrows(IllegalStateException.class,
                () -> new StepContext(null, new StepContext.Draws(9, 4, 0, 2, batch)).run(() -> {
                    DropPath dropPath = new DropPath(0.5, 3);
                    dropPath.training();
                    return dropPath.updateOutput(Tensors.zeros(5, 3));
                }));
        assertTrue(ragged.getMessage().contains("not whole blocks"), ragged.getMessage());
    }

    private static float[] draw(Tensor<Float> x, StepContext.Draws draws) {
        return new StepContext(null, draws).run(() -> run(new DropPath(0.5, 3), x));
    }

    private static boolean[] mask(float[] y) {
        boolean[] kept = new boolean[y.length];
        for (int i = 0; i < y.length; i++) {
            kept[i] = y[i] != 0;
        }
        return kept;
    }

    @Test
    void evaluationIsTheIdentity() {
        DropPath dropPath = new DropPath(0.9, 1);
        dropPath.evaluate();
        Tensor<Float> x = TestTensors.randn(new Random(4), 1.0, 8, 3);
        assertEquals(0.0, TestTensors.maxAbsDiff(x, dropPath.forward(x)));
    }

    private static float[] run(DropPath dropPath, Tensor<Float> x) {
        dropPath.training();
        return Tensors.toArray(dropPath.forward(x));
    }
}
