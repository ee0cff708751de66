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

    /**
     * A sample with several feature tensors (a mini-batch of them becomes a table of batched tensors), for example
     * the two views of a SimCLR pair, which must travel together so both land in one replica's slice.
     */
    @SuppressWarnings("unchecked")
    public static Sample<Float> of(java.util.List<Tensor<Float>> features, Tensor<Float> label) {
        Tensor<Float>[] array = features.toArray(new Tensor[0]);
        return Sample$.MODULE$.<Float>apply(array, label, FloatTypes.TAG, FloatTypes.NUMERIC);
    }

    /** A sample with a 1-based class label, as DLlib's ClassNLLCriterion expects. */
    public static Sample<Float> labelled(Tensor<Float> feature, int oneBasedClass) {
        if (oneBasedClass < 1) {
            throw new IllegalArgumentException("DLlib class labels are 1-based; got " + oneBasedClass);
        }
        return of(feature, Tensors.scalar(oneBasedClass));
    }
}
