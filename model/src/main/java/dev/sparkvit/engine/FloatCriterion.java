package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.TensorCriterion;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;

/**
 * Base of sparkvit's own losses: a float criterion from (input, target) tensors to a scalar. Subclasses implement
 * {@link #loss} and {@link #gradient} in plain Java; DLlib calls them through updateOutput / updateGradInput.
 */
public abstract class FloatCriterion extends TensorCriterion<Float> {
    private static final long serialVersionUID = 1L;

    protected FloatCriterion() {
        super(FloatTypes.TAG, FloatTypes.NUMERIC);
    }

    /** The loss of {@code input} against {@code target}. */
    protected abstract float loss(Tensor<Float> input, Tensor<Float> target);

    /** d(loss)/d(input), written into {@code gradInput} (already resized like the input). */
    protected abstract void gradient(Tensor<Float> input, Tensor<Float> target, Tensor<Float> gradInput);

    @Override
    public Float updateOutput(Tensor<Float> input, Tensor<Float> target) {
        float value = loss(input, target);
        output_$eq(value);
        return value;
    }

    @Override
    public Tensor<Float> updateGradInput(Tensor<Float> input, Tensor<Float> target) {
        Tensor<Float> grad = gradInput().resizeAs(input);
        gradient(input, target, grad);
        return grad;
    }
}
