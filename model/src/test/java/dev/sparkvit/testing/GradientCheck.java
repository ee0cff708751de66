package dev.sparkvit.testing;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatTypes;
import dev.sparkvit.engine.ModuleParameters;
import dev.sparkvit.engine.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Central finite-difference gradient check. With a fixed random {@code g}, the scalar {@code L = sum(g * f(x))} has
 * {@code dL/dx = backward(x, g)} and {@code dL/dw} = the accumulated parameter gradients; both are compared with
 * {@code (L(v + eps) - L(v - eps)) / 2 eps} on a random sample of coordinates of the input and of every parameter
 * tensor. L is summed in double; unchanged outputs cancel exactly, so float rounding only enters through the
 * outputs a perturbation touches.
 */
public final class GradientCheck {
    private final AbstractModule<Activity, Activity, Float> module;
    private final double eps;
    private final int coordinatesPerTensor;
    private final Random random;

    @SuppressWarnings("unchecked")
    public GradientCheck(AbstractModule<?, ?, Float> module, double eps, int coordinatesPerTensor, long seed) {
        this.module = (AbstractModule<Activity, Activity, Float>) (AbstractModule<?, ?, ?>) module;
        this.eps = eps;
        this.coordinatesPerTensor = coordinatesPerTensor;
        this.random = new Random(seed);
    }

    /** One compared tensor: its name and the worst error relative to the largest numerical gradient. */
    public record Result(String tensor, double relativeError, double maxNumerical, int coordinates) {
        @Override
        public String toString() {
            return String.format("%s: relative error %.3g (max |numerical| %.3g over %d coordinates)", tensor,
                    relativeError, maxNumerical, coordinates);
        }
    }

    /** Checks the input gradient and every parameter gradient of {@code module} at {@code input}. */
    public List<Result> run(Tensor<Float> input) {
        Tensor<Float> out = module.forward(input).toTensor(FloatTypes.NUMERIC);
        Tensor<Float> g = TestTensors.randn(random, 1.0, Tensors.shape(out));
        module.zeroGradParameters();
        Tensor<Float> analyticInput = module.backward(input, g).toTensor(FloatTypes.NUMERIC).clone();
        List<Tensor<Float>> grads = ModuleParameters.gradients(module);
        List<Tensor<Float>> analyticParams = new ArrayList<>();
        for (Tensor<Float> grad : grads) {
            analyticParams.add(grad.clone());
        }

        List<Result> results = new ArrayList<>();
        results.add(compare("input", input, analyticInput, input, g));
        List<Tensor<Float>> weights = ModuleParameters.weights(module);
        for (int i = 0; i < weights.size(); i++) {
            results.add(compare("parameter " + i, weights.get(i), analyticParams.get(i), input, g));
        }
        return results;
    }

    private Result compare(String name, Tensor<Float> variable, Tensor<Float> analytic, Tensor<Float> input,
            Tensor<Float> g) {
        float[] data = Tensors.data(variable);
        int offset = Tensors.offset(variable);
        int n = Tensors.size(variable);
        float[] expected = Tensors.toArray(analytic);
        int count = Math.min(n, coordinatesPerTensor);
        double maxError = 0;
        double maxNumerical = 0;
        for (int s = 0; s < count; s++) {
            int i = n <= coordinatesPerTensor ? s : random.nextInt(n);
            float original = data[offset + i];
            data[offset + i] = (float) (original + eps);
            double plus = loss(input, g);
            data[offset + i] = (float) (original - eps);
            double minus = loss(input, g);
            data[offset + i] = original;
            double numerical = (plus - minus) / (2 * eps);
            maxNumerical = Math.max(maxNumerical, Math.abs(numerical));
            maxError = Math.max(maxError, Math.abs(numerical - expected[i]));
        }
        return new Result(name, maxError / Math.max(maxNumerical, 1e-6), maxNumerical, count);
    }

    private double loss(Tensor<Float> input, Tensor<Float> g) {
        float[] y = Tensors.toArray(module.forward(input).toTensor(FloatTypes.NUMERIC));
        float[] w = Tensors.toArray(g);
        double sum = 0;
        for (int i = 0; i < y.length; i++) {
            sum += (double) y[i] * w[i];
        }
        return sum;
    }
}
