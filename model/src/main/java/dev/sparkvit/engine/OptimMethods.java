package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.optim.SGD;

/** Stock DLlib optimisation methods. (AdamW is sparkvit's own: DLlib's AdamWeightDecay is broken.) */
public final class OptimMethods {
    private OptimMethods() {
    }

    /** Plain SGD with optional momentum (dampening equal to momentum, as in DLlib's default). */
    public static SGD<Float> sgd(double learningRate, double momentum) {
        return new SGD<>(learningRate, 0.0, 0.0, momentum, Double.MAX_VALUE, false, new SGD.Default(), null, null,
                FloatTypes.TAG, FloatTypes.NUMERIC);
    }
}
