package dev.sparkvit.model.vit;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatContainer;
import dev.sparkvit.engine.IterationAware;
import dev.sparkvit.model.optim.FreezeOutSchedule;
import java.util.List;

/**
 * The ViT encoder: stem, blocks, neck, run in order. With a FreezeOut schedule its backward pass stops at the frozen
 * prefix: once the stem and blocks 0..k-1 are frozen, no input gradient and no weight gradient is computed for them,
 * which is where FreezeOut's saving comes from. The encoder counts its own training forward passes (one per
 * iteration on every replica) to know the iteration; {@link #setIteration} restores it on resume. Without a
 * schedule it behaves exactly like a Sequential.
 */
public final class Encoder extends FloatContainer implements IterationAware {
    private static final long serialVersionUID = 1L;

    private final FreezeOutSchedule freezeOut;
    private long trainingForwards;
    private transient Tensor<Float>[] inputs;

    Encoder(List<AbstractModule<?, ?, Float>> children, FreezeOutSchedule freezeOut) {
        for (AbstractModule<?, ?, Float> child : children) {
            addChild(child);
        }
        this.freezeOut = freezeOut;
    }

    /** The iteration the next training forward pass belongs to (0-based). */
    public long iteration() {
        return trainingForwards;
    }

    /** Sets the iteration counter, for a run resumed from a checkpoint (and by the barrier loop every iteration). */
    @Override
    public void setIteration(long iteration) {
        this.trainingForwards = iteration;
    }

    /** Leading children (stem = child 0, then blocks) whose backward is skipped at the current iteration. */
    int frozenChildren() {
        if (freezeOut == null || !isTraining()) {
            return 0;
        }
        int frozenBlocks = freezeOut.frozenPrefix(trainingForwards - 1);
        return frozenBlocks == 0 ? 0 : frozenBlocks + 1; // the stem freezes with block 0
    }

    @Override
    @SuppressWarnings("unchecked")
    public Tensor<Float> updateOutput(Tensor<Float> input) {
        int n = modules().size();
        if (inputs == null || inputs.length != n) {
            inputs = new Tensor[n];
        }
        Tensor<Float> x = input;
        for (int i = 0; i < n; i++) {
            inputs[i] = x;
            x = forward(child(i), x);
        }
        if (isTraining()) {
            trainingForwards++;
        }
        return setOutput(x);
    }

    @Override
    public Tensor<Float> backward(Tensor<Float> input, Tensor<Float> gradOutput) {
        return propagate(gradOutput, true);
    }

    @Override
    public Tensor<Float> updateGradInput(Tensor<Float> input, Tensor<Float> gradOutput) {
        return propagate(gradOutput, false);
    }

    @Override
    public void accGradParameters(Tensor<Float> input, Tensor<Float> gradOutput) {
        throw new UnsupportedOperationException("Encoder computes gradients in backward()");
    }

    private Tensor<Float> propagate(Tensor<Float> gradOutput, boolean accumulate) {
        int frozen = frozenChildren();
        Tensor<Float> g = gradOutput;
        for (int i = modules().size() - 1; i >= frozen; i--) {
            g = accumulate ? backward(child(i), inputs[i], g) : updateGradInput(child(i), inputs[i], g);
        }
        if (frozen > 0) {
            // the frozen prefix gets no gradient; the encoder's input (images) needs none
            g = gradInput().resizeAs(inputs[0]).zero();
        }
        return setGradInput(g);
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder("Encoder[" + getName() + "]" + (freezeOut == null ? "" : "(FreezeOut)")
                + "{");
        for (int i = 0; i < modules().size(); i++) {
            text.append("\n  ").append(child(i).toString().replace("\n", "\n  "));
        }
        return text.append("\n}").toString();
    }
}
