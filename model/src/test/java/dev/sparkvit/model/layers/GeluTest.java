package dev.sparkvit.model.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.Blas;
import dev.sparkvit.engine.Tensors;
import org.junit.jupiter.api.Test;

/** Gelu's erf approximation against MKL's erf, over more than one chunk and at an input offset. */
class GeluTest {

    @Test
    void valuesAndGradientsMatchTheExactErfForm() {
        int n = 2 * Gelu.CHUNK + 123;
        float[] storage = new float[n + 5];
        for (int i = 0; i < n; i++) {
            storage[5 + i] = -9f + 18f * i / (n - 1); // -9 .. 9, through 0
        }
        storage[5 + n / 2] = 0f;
        Tensor<Float> x = Tensors.of(storage, n + 5).narrow(1, 6, n);
        float[] ones = new float[n];
        java.util.Arrays.fill(ones, 1f);
        Gelu gelu = new Gelu();
        float[] y = Tensors.toArray(gelu.forward(x));
        float[] dy = Tensors.toArray(gelu.backward(x, Tensors.of(ones, n)));

        float[] erf = new float[n];
        for (int i = 0; i < n; i++) {
            erf[i] = (float) (storage[5 + i] / Math.sqrt(2));
        }
        Blas.erf(n, erf, 0, erf, 0);
        double worstValue = 0;
        double worstSlope = 0;
        for (int i = 0; i < n; i++) {
            double v = storage[5 + i];
            double cdf = 0.5 * (1 + erf[i]);
            double pdf = Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
            worstValue = Math.max(worstValue, Math.abs(y[i] - v * cdf) / Math.max(1, Math.abs(v)));
            worstSlope = Math.max(worstSlope, Math.abs(dy[i] - (cdf + v * pdf)));
        }
        assertTrue(worstValue < 5e-7, "worst value error " + worstValue);
        assertTrue(worstSlope < 1e-6, "worst slope error " + worstSlope);
        assertEquals(0f, y[n / 2]);
        assertEquals(0.5f, dy[n / 2]);
    }
}
