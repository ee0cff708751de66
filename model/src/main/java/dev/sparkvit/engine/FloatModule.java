package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.TensorModule;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.blas.MklCpuDispatch;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import scala.Tuple2;

/**
 * Base of sparkvit's own DLlib layers: a float module from tensor to tensor whose trainable tensors are declared once
 * with {@link #addParameter}. Subclasses implement {@code updateOutput}, {@code updateGradInput} and
 * {@code accGradParameters} in plain Java.
 *
 * <p>Rules every subclass follows (docs/ENGINE.md, defect 1):
 * <ul>
 *   <li>gradients are <em>accumulated in place</em> into the registered gradient tensors, never reassigned:
 *       {@code getParameters()} turns every registered tensor into a view of one flat buffer, which the training
 *       step exchanges and updates;</li>
 *   <li>the backing array of a tensor is fetched on every call ({@link Tensors#data}), never cached, for the same
 *       reason;</li>
 *   <li>weight gradients are multiplied by {@link #getScaleW()}, bias gradients by {@link #getScaleB()}, so
 *       DLlib's {@code freeze} works;</li>
 *   <li>forward caches needed by backward are {@code transient}: replicas are cloned by Java serialization.</li>
 * </ul>
 */
public abstract class FloatModule extends TensorModule<Float> {
    private static final long serialVersionUID = 1L;

    static {
        // An executor initialises this class when it deserialises a model, before the model's first MKL call there:
        // the point to choose MKL's code path on AMD CPUs (MklCpuDispatch).
        MklCpuDispatch.configure();
    }

    private final List<String> parameterNames = new ArrayList<>();
    private final List<Tensor<Float>> weights = new ArrayList<>();
    private final List<Tensor<Float>> gradients = new ArrayList<>();
    private final List<Boolean> noWeightDecay = new ArrayList<>();

    protected FloatModule() {
        super(FloatTypes.TAG, FloatTypes.NUMERIC);
    }

    /**
     * Declares a trainable tensor and returns it. {@code name} is relative to this module (timm's leaf name, e.g.
     * {@code weight}, {@code gamma}, {@code proj.weight}; empty when the module itself is the parameter, as for
     * {@code cls_token}). The gradient tensor is created with the same shape.
     */
    protected final Tensor<Float> addParameter(String name, Tensor<Float> weight, boolean excludeFromWeightDecay) {
        parameterNames.add(name);
        weights.add(weight);
        gradients.add(Tensors.zeros(Tensors.shape(weight)));
        noWeightDecay.add(excludeFromWeightDecay);
        return weight;
    }

    /** Parameter names relative to this module, aligned with {@link #parameters()}. */
    public final List<String> parameterNames() {
        return Collections.unmodifiableList(parameterNames);
    }

    /** Whether parameter {@code index} is excluded from weight decay (biases, norm weights, gammas, embeddings). */
    public final boolean excludedFromWeightDecay(int index) {
        return noWeightDecay.get(index);
    }

    /** The i-th registered weight tensor (the live tensor, possibly a view of DLlib's flat buffer). */
    public final Tensor<Float> weight(int index) {
        return weights.get(index);
    }

    /** The i-th registered gradient tensor (accumulate into it in place). */
    public final Tensor<Float> gradient(int index) {
        return gradients.get(index);
    }

    @Override
    @SuppressWarnings("unchecked")
    public Tuple2<Tensor<Float>[], Tensor<Float>[]> parameters() {
        if (weights.isEmpty()) {
            return null;
        }
        return new Tuple2<>(weights.toArray(new Tensor[0]), gradients.toArray(new Tensor[0]));
    }

    /** The output tensor DLlib owns for this module (resize and fill it in {@code updateOutput}). */
    protected final Tensor<Float> outputTensor() {
        return output();
    }

    /** The input-gradient tensor DLlib owns for this module. */
    protected final Tensor<Float> gradInputTensor() {
        return gradInput();
    }
}
