package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.optim.Adam;
import com.intel.analytics.bigdl.dllib.optim.SGD;

/** Stock DLlib optimisation methods. (AdamW is sparkvit's own: DLlib's AdamWeightDecay is broken.) */
public final class OptimMethods {
    private OptimMethods() {
    }

    /**
     * DLlib's Adam (Kingma and Ba 2015) with bias correction and no weight decay; a correct implementation, unlike
     * DLlib's AdamWeightDecay (docs/ENGINE.md, defect 3).
     */
    public static Adam<Float> adam(double learningRate) {
        return new Adam<>(learningRate, 0.0, 0.9, 0.999, 1e-8, FloatTypes.TAG, FloatTypes.NUMERIC);
    }

    /** Plain SGD with optional momentum (dampening equal to momentum, as in DLlib's default). */
    public static SGD<Float> sgd(double learningRate, double momentum) {
        return new SGD<>(learningRate, 0.0, 0.0, momentum, Double.MAX_VALUE, false, new SGD.Default(), null, null,
                FloatTypes.TAG, FloatTypes.NUMERIC);
    }
}
