package dev.sparkvit.model.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.Tensors;
import org.junit.jupiter.api.Test;
import scala.Tuple2;
import scala.runtime.AbstractFunction1;

class AdamWTest {

    /** A gradient that is a fixed function of the parameters: g = 2 p - 1 (the gradient of sum (p^2 - p)). */
    private static final class Quadratic extends AbstractFunction1<Tensor<Float>, Tuple2<Float, Tensor<Float>>> {
        @Override
        public Tuple2<Float, Tensor<Float>> apply(Tensor<Float> p) {
            float[] values = Tensors.toArray(p);
            float[] grad = new float[values.length];
            for (int i = 0; i < values.length; i++) {
                grad[i] = 2 * values[i] - 1;
            }
            return new Tuple2<>(0f, Tensors.of(grad, values.length));
        }
    }

    @Test
    void matchesTheClosedFormOfTorchAdamW() {
        WarmupCosine schedule = new WarmupCosine(0.1, 2, 10, 0.0);
        AdamW adamw = new AdamW(schedule, 0.9, 0.999, 1e-8, 0.05);
        Tensor<Float> p = Tensors.of(new float[] {0.5f, -1.0f, 2.0f}, 3);
        double[] ref = {0.5, -1.0, 2.0};
        double[] m = new double[3];
        double[] v = new double[3];
        for (int t = 1; t <= 6; t++) {
            adamw.optimize(new Quadratic(), p);
            double lr = schedule.rate(t - 1);
            for (int i = 0; i < 3; i++) { // torch.optim.AdamW, written out
                double g = 2 * ref[i] - 1;
                ref[i] *= 1 - lr * 0.05;
                m[i] = 0.9 * m[i] + 0.1 * g;
                v[i] = 0.999 * v[i] + 0.001 * g * g;
                double mHat = m[i] / (1 - Math.pow(0.9, t));
                double vHat = v[i] / (1 - Math.pow(0.999, t));
                ref[i] -= lr * mHat / (Math.sqrt(vHat) + 1e-8);
            }
            float[] got = Tensors.toArray(p);
            for (int i = 0; i < 3; i++) {
                assertEquals(ref[i], got[i], 1e-5, "step " + t + " element " + i);
            }
            assertEquals(lr, adamw.getLearningRate(), 1e-12);
        }
        assertEquals(6, adamw.step());
    }

    @Test
    void decayIsDecoupledFromTheGradient() {
        // zero gradient: Adam's step is 0/eps-ish = 0, only the decoupled decay moves p
        AdamW adamw = new AdamW(new WarmupCosine(0.1, 0, 100, 0.1), 0.9, 0.999, 1e-8, 0.5);
        Tensor<Float> p = Tensors.of(new float[] {2f}, 1);
        adamw.optimize(new AbstractFunction1<Tensor<Float>, Tuple2<Float, Tensor<Float>>>() {
            @Override
            public Tuple2<Float, Tensor<Float>> apply(Tensor<Float> x) {
                return new Tuple2<>(0f, Tensors.zeros(1));
            }
        }, p);
        assertEquals(2f * (1 - 0.1f * 0.5f), Tensors.toArray(p)[0], 1e-6f);
    }

    @Test
    void minimisesAQuadratic() {
        AdamW adamw = AdamW.of(new WarmupCosine(0.05, 10, 400, 0.0), 0.0);
        Tensor<Float> p = Tensors.of(new float[] {3f, -2f}, 2);
        for (int i = 0; i < 400; i++) {
            adamw.optimize(new Quadratic(), p);
        }
        for (float value : Tensors.toArray(p)) {
            assertEquals(0.5f, value, 1e-2f, "minimum of p^2 - p");
        }
    }

    @Test
    void cloneCarriesTheMomentsAndClearHistoryResetsThem() {
        AdamW adamw = AdamW.of(new WarmupCosine(0.1, 1, 10, 0.0), 0.0);
        Tensor<Float> p = Tensors.of(new float[] {1f}, 1);
        adamw.optimize(new Quadratic(), p);
        OptimMethod<Float> copy = adamw.clone();
        assertEquals(1, ((AdamW) copy).step());
        adamw.clearHistory();
        assertEquals(0, adamw.step());
        assertThrows(IllegalStateException.class, () -> {
            AdamW fresh = AdamW.of(new WarmupCosine(0.1, 1, 10, 0.0), 0.0);
            fresh.optimize(new Quadratic(), Tensors.of(new float[] {1f}, 1));
            fresh.optimize(new Quadratic(), Tensors.of(new float[] {1f, 2f}, 2));
        });
    }

    @Test
    void warmupCosineShape() {
        WarmupCosine s = new WarmupCosine(1.0, 4, 14, 0.1);
        assertEquals(0.25, s.rate(0), 1e-12);
        assertEquals(1.0, s.rate(3), 1e-12);
        assertEquals(1.0, s.rate(4), 1e-12);
        assertEquals(0.55, s.rate(9), 1e-12, "half way through the cosine: min + (base - min) / 2");
        assertEquals(0.1, s.rate(14), 1e-12);
        assertEquals(0.1, s.rate(1000), 1e-12);
        for (long t = 4; t < 14; t++) {
            assertTrue(s.rate(t + 1) <= s.rate(t), "monotone after warmup");
        }
        assertThrows(IllegalArgumentException.class, () -> new WarmupCosine(1.0, 10, 10, 0));
    }
}
