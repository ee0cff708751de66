package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.keras.optimizers.AdamWeightDecay;
import com.intel.analytics.bigdl.dllib.nn.LayerNormalization;
import com.intel.analytics.bigdl.dllib.nn.Sequential;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import com.intel.analytics.bigdl.mkl.MKL;
import dev.sparkvit.model.optim.SgdMomentum;
import dev.sparkvit.testing.BarrierRuns;
import dev.sparkvit.testing.SharedSpark;
import dev.sparkvit.testing.TestTensors;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import scala.Tuple2;
import scala.runtime.AbstractFunction1;

/**
 * Pins down, on the real DLlib 2.4.0 jar, the engine facts sparkvit designs around (docs/ENGINE.md). These tests
 * assert the engine's current behaviour, defects included: if one fails after an engine upgrade, the defect may be
 * fixed, and docs/ENGINE.md and the workaround should be revisited.
 */
@ExtendWith(SharedSpark.class)
class EngineDefectsTest {

    @Test
    void mklNativesFromTheCoreJarAreLoaded() {
        assertTrue(MKL.isMKLLoaded(), "libjmkl from com.intel.analytics.bigdl.core.dist:all should load");
    }

    /**
     * Defect 1: DLlib's LayerNormalization assigns new gradient tensors in accGradParameters, so the gradient never
     * reaches the model's flat gradient buffer ({@code getParameters()}), which the barrier engine exchanges and
     * updates from (as DistriOptimizer did), and its weights never train.
     */
    @Test
    void dllibLayerNormWeightsNeverTrainOnTheBarrierEngine() {
        Seeds.seedWeightInit(Seeds.DEFAULT);
        Sequential<Float> model = Layers.sequential();
        model.add(Layers.linear(8, 16));
        model.add(new LayerNormalization<>(16, FloatTypes.TAG, FloatTypes.NUMERIC));
        model.add(Layers.linear(16, 2));
        model.add(Layers.logSoftMax());
        float[][] before = ModuleParameters.snapshot(model);
        assertEquals(6, before.length, "Linear(w, b), LayerNorm(w, b), Linear(w, b)");

        SgdMomentum sgd = new SgdMomentum(i -> 0.2, 0.0, false);
        List<float[]> after;
        try (BarrierSegment segment = new BarrierSegment(BarrierRuns.module(model),
                BarrierSegmentSmokeTest.blobs(128, 3), 32, BarrierRuns.classNll(), sgd)) {
            after = BarrierRuns.tensors(model, segment.run(BarrierSegment.Start.of(model, sgd, 0), 4).weights());
        }

        assertTrue(TestTensors.maxAbsDiff(before[0], after.get(0)) > 1e-4, "Linear trains");
        assertArrayEquals(before[2], after.get(2), "LayerNorm weight unchanged (defect 1)");
        assertArrayEquals(before[3], after.get(3), "LayerNorm bias unchanged (defect 1)");
    }

    /**
     * Defect 3: keras.optimizers.AdamWeightDecay with the default total = -1 scales the learning rate by the
     * iteration count. With a constant gradient, the step divided by lr * m / (sqrt(v) + eps) (its own moments, no
     * bias correction) should be 1 at every step; it is 1, 2, 2, 3, 4, 5.
     */
    @Test
    void dllibAdamWeightDecayLearningRateGrowsWithIterations() {
        double lr = 1e-3;
        double beta1 = 0.9;
        double beta2 = 0.999;
        double eps = 1e-6;
        AdamWeightDecay<Float> adam = new AdamWeightDecay<>(lr, -1, -1, "linear", beta1, beta2, eps, 0.0,
                FloatTypes.TAG, FloatTypes.NUMERIC);
        Tensor<Float> parameter = Tensors.zeros(1);
        ConstantGradient gradient = new ConstantGradient(1.0f);

        double[] factors = new double[6];
        double m = 0;
        double v = 0;
        for (int t = 0; t < factors.length; t++) {
            float before = parameter.valueAt(1);
            adam.optimize(gradient, parameter);
            float step = before - parameter.valueAt(1);
            m = beta1 * m + (1 - beta1);
            v = beta2 * v + (1 - beta2);
            factors[t] = step / (lr * m / (Math.sqrt(v) + eps));
        }
        assertArrayEquals(new double[] {1, 2, 2, 3, 4, 5}, factors, 1e-3);
    }

    private static final class ConstantGradient
            extends AbstractFunction1<Tensor<Float>, Tuple2<Float, Tensor<Float>>> {
        private final float value;

        ConstantGradient(float value) {
            this.value = value;
        }

        @Override
        public Tuple2<Float, Tensor<Float>> apply(Tensor<Float> x) {
            Tensor<Float> grad = Tensors.zeros(Tensors.shape(x));
            grad.fill(value);
            return new Tuple2<>(0f, grad);
        }
    }
}
