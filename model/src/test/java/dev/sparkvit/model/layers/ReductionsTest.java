package dev.sparkvit.model.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ReductionsTest {

    /** Lengths around the eight-way unrolling, at an offset, against sums in double. */
    @Test
    void matchSequentialDoubleSums() {
        Random random = new Random(1);
        float[] a = new float[300];
        float[] b = new float[300];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) random.nextGaussian();
            b[i] = (float) random.nextGaussian();
        }
        for (int n : new int[] {1, 7, 8, 9, 16, 65, 192, 197}) {
            double sum = 0;
            double dot = 0;
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                sum += a[3 + i];
                dot += (double) a[3 + i] * b[5 + i];
                max = Math.max(max, a[3 + i]);
            }
            double mean = sum / n;
            double squares = 0;
            for (int i = 0; i < n; i++) {
                squares += (a[3 + i] - (float) mean) * (double) (a[3 + i] - (float) mean);
            }
            assertEquals(sum, Reductions.sum(a, 3, n), 1e-5, "sum of " + n);
            assertEquals(dot, Reductions.dot(a, 3, b, 5, n), 1e-5, "dot of " + n);
            assertEquals(squares, Reductions.squaredDeviations(a, 3, n, (float) mean), 1e-4, "squares of " + n);
            assertEquals((float) max, Reductions.max(a, 3, n), "max of " + n);
        }
    }

    @Test
    void maxPropagatesNaN() {
        float[] a = {1, 2, Float.NaN, 4, 5, 6, 7};
        assertTrue(Float.isNaN(Reductions.max(a, 0, a.length)));
    }
}
