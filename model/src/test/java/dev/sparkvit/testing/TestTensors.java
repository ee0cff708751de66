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
        float[] x = Tensors.toArray(a);
        float[] y = Tensors.toArray(b);
        if (x.length != y.length) {
            throw new IllegalArgumentException("sizes differ: " + x.length + " vs " + y.length);
        }
        double max = 0;
        for (int i = 0; i < x.length; i++) {
            max = Math.max(max, Math.abs(x[i] - y[i]));
        }
        return max;
    }
}
