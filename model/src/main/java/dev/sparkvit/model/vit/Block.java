package dev.sparkvit.model.vit;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatContainer;

/**
 * The pre-norm transformer block, as timm's {@code Block}: two residual lines,
 * <pre>
 *   h   = x + attentionBranch(x)     attentionBranch = norm1, attn, [ls1], [drop_path1]
 *   out = h + mlpBranch(h)           mlpBranch       = norm2, mlp,  [ls2], [drop_path2]
 * </pre>
 * LayerScale and DropPath are present in a branch only when configured.
 */
public final class Block extends FloatContainer {
    private static final long serialVersionUID = 1L;

    private transient Tensor<Float> hidden;
    private transient Tensor<Float> gradHidden;

    public Block(AbstractModule<?, ?, Float> attentionBranch, AbstractModule<?, ?, Float> mlpBranch) {
        addChild(attentionBranch);
        addChild(mlpBranch);
    }

    private AbstractModule<Activity, Activity, Float> attentionBranch() {
        return child(0);
    }

    private AbstractModule<Activity, Activity, Float> mlpBranch() {
        return child(1);
    }

    @Override
    public Tensor<Float> updateOutput(Tensor<Float> x) {
        hidden = residual(hidden, x, forward(attentionBranch(), x));
        return setOutput(residual(output(), hidden, forward(mlpBranch(), hidden)));
    }

    @Override
    public Tensor<Float> backward(Tensor<Float> x, Tensor<Float> gradOutput) {
        return propagate(x, gradOutput, true);
    }

    @Override
    public Tensor<Float> updateGradInput(Tensor<Float> x, Tensor<Float> gradOutput) {
        return propagate(x, gradOutput, false);
    }

    /** The two residual lines backwards; with {@code accumulate} the branches also add their weight gradients. */
    private Tensor<Float> propagate(Tensor<Float> x, Tensor<Float> gradOutput, boolean accumulate) {
        Tensor<Float> mlp = accumulate ? backward(mlpBranch(), hidden, gradOutput)
                : updateGradInput(mlpBranch(), hidden, gradOutput);
        gradHidden = residual(gradHidden, gradOutput, mlp);
        Tensor<Float> attention = accumulate ? backward(attentionBranch(), x, gradHidden)
                : updateGradInput(attentionBranch(), x, gradHidden);
        return setGradInput(residual(gradInput(), gradHidden, attention));
    }

    @Override
    public void accGradParameters(Tensor<Float> x, Tensor<Float> gradOutput) {
        mlpBranch().accGradParameters(hidden, gradOutput);
        attentionBranch().accGradParameters(x, gradHidden);
    }

    /**
     * {@code target = skip + branch} in one pass (DLlib's two-operand add: MKL's vsAdd on contiguous tensors), reusing
     * {@code target}'s storage when it exists.
     */
    private static Tensor<Float> residual(Tensor<Float> target, Tensor<Float> skip, Tensor<Float> branch) {
        Tensor<Float> result = target == null ? skip.clone() : target.resizeAs(skip);
        return result.add(skip, branch);
    }

    @Override
    public String toString() {
        String indent = "\n    ";
        return "Block[" + getName() + "]{" + indent + "x + " + attentionBranch().toString().replace("\n", indent)
                + indent + "h + " + mlpBranch().toString().replace("\n", indent) + "\n}";
    }
}
