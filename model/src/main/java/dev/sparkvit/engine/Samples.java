package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.feature.dataset.Sample;
import com.intel.analytics.bigdl.dllib.feature.dataset.Sample$;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;

/** DLlib training samples (feature tensor plus label tensor). */
public final class Samples {
    private Samples() {
    }

    public static Sample<Float> of(Tensor<Float> feature, Tensor<Float> label) {
        // The explicit witness picks the (Tensor, Tensor) overload over the (Tensor, T) one.
        return Sample$.MODULE$.<Float>apply(feature, label, FloatTypes.TAG, FloatTypes.NUMERIC);
    }

    /** A sample with a 1-based class label, as DLlib's ClassNLLCriterion expects. */
    public static Sample<Float> labelled(Tensor<Float> feature, int oneBasedClass) {
        if (oneBasedClass < 1) {
            throw new IllegalArgumentException("DLlib class labels are 1-based; got " + oneBasedClass);
        }
        return of(feature, Tensors.scalar(oneBasedClass));
    }
}
