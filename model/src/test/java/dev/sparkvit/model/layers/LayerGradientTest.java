package dev.sparkvit.model.layers;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.StepContext;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.testing.GradientCheck;
import dev.sparkvit.testing.TestTensors;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Finite-difference gradient checks of every layer sparkvit writes (input and parameter gradients). */
class LayerGradientTest {
    private static final double EPS = 1e-2;
    private static final double TOLERANCE = 1e-3;

    private static void assertGradients(AbstractModule<?, ?, Float> module, Tensor<Float> input, long seed) {
        TestTensors.randomizeParameters(module, new Random(seed + 1), 0.0, 0.5);
        List<GradientCheck.Result> results = new GradientCheck(module, EPS, 40, seed).run(input);
        for (GradientCheck.Result r : results) {
            assertTrue(r.relativeError() < TOLERANCE, module + " " + r);
            assertTrue(r.maxNumerical() > 0, module + " " + r + ": gradient identically zero, check is vacuous");
        }
    }

    private static Tensor<Float> randn(long seed, int... shape) {
        return TestTensors.randn(new Random(seed), 1.0, shape);
    }

    @Test
    void layerScaleOnTokens() {
        assertGradients(new LayerScale(8, 1e-4), randn(1, 2, 5, 8), 11);
    }

    @Test
    void layerScaleOnChannelsLastImages() {
        assertGradients(new LayerScale(6), randn(2, 2, 3, 4, 6), 12);
    }

    @Test
    void layerScaleOnChannelsLastVideo() {
        assertGradients(new LayerScale(4), randn(3, 2, 2, 3, 3, 4), 13);
    }

    @Test
    void layerNorm() {
        assertGradients(new LayerNorm(12), randn(4, 2, 5, 12), 14);
    }

    @Test
    void batchNorm() {
        // a large shared offset, as projection-head features have: the gradient must not depend on it
        Tensor<Float> x = randn(7, 9, 5);
        x.add(3f);
        assertGradients(new BatchNorm(5), x, 17);
    }

    /**
     * SyncBatchNorm synchronised with a second task whose slice (7 rows) is held fixed: the loss is this task's part,
     * so the other task's {@code sum dy} and {@code sum dy * xhat} are 0 and its statistics are constants; the
     * exchange answers with them (task order: this task first). The check differentiates through the global mean and
     * variance, which this task's rows share with the other's.
     */
    @Test
    void syncBatchNormOverTwoTasks() {
        int dim = 5;
        Tensor<Float> x = randn(8, 4, dim);
        x.add(3f);
        Tensor<Float> other = randn(9, 7, dim);
        other.add(2.5f);
        float[] os = Tensors.toArray(other);
        double[] otherStats = new double[2 * dim + 1];
        otherStats[0] = 7;
        for (int c = 0; c < dim; c++) {
            double mean = 0;
            for (int r = 0; r < 7; r++) {
                mean += os[r * dim + c] / 7.0;
            }
            double m2 = 0;
            for (int r = 0; r < 7; r++) {
                m2 += (os[r * dim + c] - mean) * (os[r * dim + c] - mean);
            }
            otherStats[1 + c] = mean;
            otherStats[1 + dim + c] = m2;
        }
        int[] calls = new int[2];
        StepContext.Gather twoTasks = mine -> {
            calls[mine.length == 2 * dim + 1 ? 0 : 1]++;
            return new double[][] {mine, mine.length == 2 * dim + 1 ? otherStats : new double[2 * dim]};
        };
        SyncBatchNorm bn = new SyncBatchNorm(dim);
        bn.training();
        new StepContext(twoTasks, null).run(() -> {
            assertGradients(bn, x, 18);
            return null;
        });
        assertTrue(calls[0] > 0 && calls[1] > 0, "forward and backward gathered: " + Arrays.toString(calls));
    }

    @Test
    void gelu() {
        assertGradients(new Gelu(), TestTensors.randn(new Random(5), 2.0, 3, 7, 5), 15);
    }

    @Test
    void tokenLinear() {
        assertGradients(new TokenLinear(6, 10), randn(6, 2, 4, 6), 16);
    }

    @Test
    void selfAttention() {
        assertGradients(new SelfAttention(8, 2), randn(7, 2, 5, 24), 17);
    }

    @Test
    void patchEmbed() {
        assertGradients(new PatchEmbed(8, 4, 3, 6), randn(8, 2, 3, 8, 8), 18);
    }

    @Test
    void classToken() {
        assertGradients(new ClassToken(6), randn(9, 2, 4, 6), 19);
    }

    @Test
    void positionEmbedding() {
        assertGradients(new PositionEmbedding(5, 6), randn(10, 3, 5, 6), 20);
    }

    @Test
    void tokenPoolingClassToken() {
        assertGradients(new TokenPooling(TokenPooling.Mode.CLASS_TOKEN, 1), randn(11, 2, 5, 6), 21);
    }

    @Test
    void tokenPoolingMean() {
        assertGradients(new TokenPooling(TokenPooling.Mode.MEAN, 1), randn(12, 2, 5, 6), 22);
    }

    @Test
    void dropPathInEvaluationIsTheIdentity() {
        DropPath dropPath = new DropPath(0.3, 7);
        dropPath.evaluate();
        assertGradients(dropPath, randn(13, 3, 4, 6), 23);
    }
}
