package dev.sparkvit.testing;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractCriterion;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatCriterion;

/**
 * A loss that reports NaN on chosen training iterations (0-based) while its gradient stays the wrapped loss's finite
 * one: a non-finite loss with a finite gradient. Each replica counts its own calls; DLlib clones the criterion afresh
 * for every {@code optimize()}, so the count is the iteration only within one uninterrupted {@code optimize()}.
 */
public final class NanLossAt extends FloatCriterion {
    private static final long serialVersionUID = 1L;

    private final AbstractCriterion<Tensor<Float>, Tensor<Float>, Float> inner;
    private final long iteration;
    private long calls;

    public NanLossAt(AbstractCriterion<Tensor<Float>, Tensor<Float>, Float> inner, long iteration) {
        this.inner = inner;
        this.iteration = iteration;
    }

    @Override
    protected float loss(Tensor<Float> input, Tensor<Float> target) {
        float value = inner.forward(input, target);
        return calls++ == iteration ? Float.NaN : value;
    }

    @Override
    protected void gradient(Tensor<Float> input, Tensor<Float> target, Tensor<Float> gradInput) {
        gradInput.copy(inner.backward(input, target));
    }
}
