package dev.sparkvit.testing;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.ModuleParameters;
import dev.sparkvit.engine.Tensors;
import java.util.Random;

/** Random tensors and parameter fills for tests. */
public final class TestTensors {
    private TestTensors() {
    }

    /** A tensor of N(0, std^2) draws. */
    public static Tensor<Float> randn(Random random, double std, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] data = new float[n];
        for (int i = 0; i < n; i++) {
            data[i] = (float) (random.nextGaussian() * std);
        }
        return Tensors.of(data, shape);
    }

    /** Overwrites every parameter of {@code module} with N(mean, std^2) draws, so no weight sits at a special value. */
    public static void randomizeParameters(AbstractModule<?, ?, Float> module, Random random, double mean, double std) {
        for (Tensor<Float> w : ModuleParameters.weights(module)) {
            float[] data = Tensors.data(w);
            int offset = Tensors.offset(w);
            for (int i = 0; i < Tensors.size(w); i++) {
                data[offset + i] = (float) (mean + random.nextGaussian() * std);
            }
        }
    }

    /** Largest absolute element difference of two tensors of the same size. */
    public static double maxAbsDiff(Tensor<Float> a, Tensor<Float> b) {
        return maxAbsDiff(Tensors.toArray(a), Tensors.toArray(b));
    }

    /** Largest absolute element difference of two flat vectors of the same length. */
    public static double maxAbsDiff(float[] x, float[] y) {
        if (x.length != y.length) {
            throw new IllegalArgumentException("sizes differ: " + x.length + " vs " + y.length);
        }
        double max = 0;
        for (int i = 0; i < x.length; i++) {
            max = Math.max(max, Math.abs(x[i] - y[i]));
        }
        return max;
    }

    /** {@code |a - b|_2 / |b|_2} over two flat vectors of the same length (the relative L2 error of {@code a}). */
    public static double relativeL2(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("lengths differ: " + a.length + " vs " + b.length);
        }
        double difference = 0;
        double norm = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            difference += d * d;
            norm += (double) b[i] * b[i];
        }
        return Math.sqrt(difference) / Math.sqrt(norm);
    }
}
