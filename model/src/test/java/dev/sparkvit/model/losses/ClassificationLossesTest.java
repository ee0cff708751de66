package dev.sparkvit.model.losses;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatCriterion;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.testing.LossGradientCheck;
import dev.sparkvit.testing.TestTensors;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Cross-entropy with label smoothing and class weights, focal loss, their sum: hand values and gradients. */
class ClassificationLossesTest {
    // logits [1, 2, 3]: log-softmax = z - log(e + e^2 + e^3)
    private static final double LSE = Math.log(Math.E + Math.exp(2) + Math.exp(3));
    private static final Tensor<Float> LOGITS = Tensors.of(new float[] {1, 2, 3}, 1, 3);
    private static final Tensor<Float> CLASS_3 = Tensors.of(new float[] {3}, 1);

    private static double logP(int k) {
        return k - LSE; // k = 1, 2, 3 is also the logit
    }

    @Test
    void crossEntropyHandValues() {
        assertEquals(-logP(3), new CrossEntropyLoss(0, null).forward(LOGITS, CLASS_3), 1e-6);
        double smoothed = -(0.1 / 3) * (logP(1) + logP(2) + logP(3)) - 0.9 * logP(3);
        assertEquals(smoothed, new CrossEntropyLoss(0.1, null).forward(LOGITS, CLASS_3), 1e-6);
        assertEquals(-2 * logP(3), new CrossEntropyLoss(0, new float[] {1, 1, 2}).forward(LOGITS, CLASS_3), 1e-6);
        // a mixup target: 0.7 of class 3, 0.3 of class 1
        Tensor<Float> mixed = Tensors.of(new float[] {0.3f, 0, 0.7f}, 1, 3);
        assertEquals(-0.7 * logP(3) - 0.3 * logP(1), new CrossEntropyLoss(0, null).forward(LOGITS, mixed), 1e-6);
    }

    @Test
    void focalHandValues() {
        double p3 = Math.exp(logP(3));
        assertEquals(-Math.pow(1 - p3, 2) * logP(3), new FocalLoss(2, null).forward(LOGITS, CLASS_3), 1e-6);
        assertEquals(-0.5 * Math.pow(1 - p3, 2) * logP(3),
                new FocalLoss(2, new float[] {0.25f, 0.25f, 0.5f}).forward(LOGITS, CLASS_3), 1e-6);
        assertEquals(new CrossEntropyLoss(0, null).forward(LOGITS, CLASS_3),
                new FocalLoss(0, null).forward(LOGITS, CLASS_3), 1e-6, "gamma 0 is the cross-entropy");
        Tensor<Float> mixed = Tensors.of(new float[] {0.3f, 0, 0.7f}, 1, 3);
        double p1 = Math.exp(logP(1));
        assertEquals(-0.7 * Math.pow(1 - p3, 2) * logP(3) - 0.3 * Math.pow(1 - p1, 2) * logP(1),
                new FocalLoss(2, null).forward(LOGITS, mixed), 1e-6);
    }

    @Test
    void theGuidesCombinedLossIsHalfOfEach() {
        double focal = new FocalLoss(2, null).forward(LOGITS, CLASS_3);
        double smoothed = new CrossEntropyLoss(0.1, null).forward(LOGITS, CLASS_3);
        assertEquals(0.5 * focal + 0.5 * smoothed, WeightedSumLoss.focalPlusSmoothedCrossEntropy(2, null, 0.1, null)
                .forward(LOGITS, CLASS_3), 1e-6);
    }

    @Test
    void balancedClassWeights() {
        assertArrayEquals(new float[] {2f, 40f / 60}, ClassWeights.balanced(new long[] {10, 30}), 1e-6f);
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> ClassWeights.balanced(new long[] {5, 0}));
        assertTrue(error.getMessage().contains("class 1 has no training examples"), error.getMessage());
    }

    @Test
    void badTargetsAndSettingsAreNamed() {
        IllegalArgumentException label = assertThrows(IllegalArgumentException.class,
                () -> new CrossEntropyLoss(0, null).forward(LOGITS, Tensors.of(new float[] {4}, 1)));
        assertTrue(label.getMessage().contains("outside 1..3"), label.getMessage());
        IllegalArgumentException weights = assertThrows(IllegalArgumentException.class,
                () -> new FocalLoss(2, new float[] {1, 1}).forward(LOGITS, CLASS_3));
        assertTrue(weights.getMessage().contains("2 entries for 3 classes"), weights.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new CrossEntropyLoss(1.0, null));
        assertThrows(IllegalArgumentException.class, () -> new FocalLoss(-1, null));
    }

    /** Soft targets: random rows of probabilities. */
    private static Tensor<Float> softTargets(int n, int c, Random random) {
        float[] t = new float[n * c];
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int k = 0; k < c; k++) {
                t[i * c + k] = random.nextFloat();
                sum += t[i * c + k];
            }
            for (int k = 0; k < c; k++) {
                t[i * c + k] /= sum;
            }
        }
        return Tensors.of(t, n, c);
    }

    @Test
    void finiteDifferenceGradients() {
        Random random = new Random(5);
        Tensor<Float> hard = Tensors.of(new float[] {1, 4, 2, 3, 4}, 5);
        Tensor<Float> soft = softTargets(5, 4, random);
        float[] weights = {0.5f, 1f, 1.5f, 2f};
        FloatCriterion[] losses = {new CrossEntropyLoss(0.1, weights), new FocalLoss(2, weights),
                new FocalLoss(0.5, null), WeightedSumLoss.focalPlusSmoothedCrossEntropy(2, null, 0.1, weights)};
        for (FloatCriterion loss : losses) {
            for (Tensor<Float> target : java.util.List.of(hard, soft)) {
                Tensor<Float> x = TestTensors.randn(new Random(7), 2.0, 5, 4);
                LossGradientCheck.Result check = LossGradientCheck.run(loss, x, target, 1e-3);
                assertTrue(check.maxNumerical() > 1e-3, "non-vacuous");
                assertTrue(check.relativeError() < 1e-2, loss.getClass().getSimpleName() + " with " + target.dim()
                        + "-d targets: relative error " + check.relativeError());
            }
        }
    }
}
