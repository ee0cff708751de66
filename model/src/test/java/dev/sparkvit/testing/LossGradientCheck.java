package dev.sparkvit.testing;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatCriterion;
import dev.sparkvit.engine.Tensors;

/**
 * Central finite-difference check of a loss's input gradient: every coordinate of the input is moved by +-eps and
 * {@code (L(x + eps) - L(x - eps)) / 2 eps} compared with {@code backward(x, target)}.
 */
public final class LossGradientCheck {
    private LossGradientCheck() {
    }

    /** The worst absolute error and the largest numerical gradient, for a relative error and a vacuity check. */
    public record Result(double maxError, double maxNumerical) {
        public double relativeError() {
            return maxError / maxNumerical;
        }
    }

    public static Result run(FloatCriterion loss, Tensor<Float> input, Tensor<Float> target, double eps) {
        float[] analytic = Tensors.toArray(loss.backward(input, target));
        float[] data = Tensors.data(input);
        double maxError = 0;
        double maxNumerical = 0;
        for (int i = 0; i < analytic.length; i++) {
            float original = data[i];
            data[i] = (float) (original + eps);
            double plus = loss.forward(input, target);
            data[i] = (float) (original - eps);
            double minus = loss.forward(input, target);
            data[i] = original;
            double numerical = (plus - minus) / (2 * eps);
            maxError = Math.max(maxError, Math.abs(numerical - analytic[i]));
            maxNumerical = Math.max(maxNumerical, Math.abs(numerical));
        }
        return new Result(maxError, maxNumerical);
    }
}
