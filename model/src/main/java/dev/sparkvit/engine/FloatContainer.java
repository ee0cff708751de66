package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.nn.Container;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * Base of sparkvit's own DLlib containers (tensor in, tensor out). Children added with {@link #addChild} are what
 * DLlib sees for parameters, training/evaluation mode, naming and per-submodule optimisers.
 */
public abstract class FloatContainer extends Container<Tensor<Float>, Tensor<Float>, Float> {
    private static final long serialVersionUID = 1L;
    private static final ClassTag<Tensor<Float>> TENSOR = tensorTag();

    protected FloatContainer() {
        super(TENSOR, TENSOR, FloatTypes.TAG, FloatTypes.NUMERIC);
    }

    @SuppressWarnings("unchecked")
    private static ClassTag<Tensor<Float>> tensorTag() {
        return (ClassTag<Tensor<Float>>) (ClassTag<?>) ClassTag$.MODULE$.apply(Tensor.class);
    }

    /** Adds {@code child} as the next child module and returns it. */
    @SuppressWarnings("unchecked")
    protected final <M extends AbstractModule<?, ?, Float>> M addChild(M child) {
        modules().$plus$eq((AbstractModule<Activity, Activity, Float>) (AbstractModule<?, ?, ?>) child);
        return child;
    }

    /** Runs {@code module} forward on a tensor. */
    protected static Tensor<Float> forward(AbstractModule<Activity, Activity, Float> module, Tensor<Float> input) {
        return module.forward(input).toTensor(FloatTypes.NUMERIC);
    }

    /** Runs {@code module} backward (input gradient and parameter gradients). */
    protected static Tensor<Float> backward(AbstractModule<Activity, Activity, Float> module, Tensor<Float> input,
            Tensor<Float> gradOutput) {
        return module.backward(input, gradOutput).toTensor(FloatTypes.NUMERIC);
    }

    /** Runs {@code module}'s input-gradient pass only. */
    protected static Tensor<Float> updateGradInput(AbstractModule<Activity, Activity, Float> module,
            Tensor<Float> input, Tensor<Float> gradOutput) {
        return module.updateGradInput(input, gradOutput).toTensor(FloatTypes.NUMERIC);
    }

    /** The i-th child. */
    public final AbstractModule<Activity, Activity, Float> child(int index) {
        return modules().apply(index);
    }

    /** How many children. */
    public final int childCount() {
        return modules().size();
    }

    /** Records {@code out} as this container's output (what DLlib's {@code output()} returns) and returns it. */
    protected final Tensor<Float> setOutput(Tensor<Float> out) {
        output_$eq(out);
        return out;
    }

    /** Records {@code gradIn} as this container's input gradient ({@code gradInput()}) and returns it. */
    protected final Tensor<Float> setGradInput(Tensor<Float> gradIn) {
        gradInput_$eq(gradIn);
        return gradIn;
    }
}
