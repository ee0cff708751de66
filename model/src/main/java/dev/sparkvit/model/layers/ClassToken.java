package dev.sparkvit.model.layers;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatModule;
import dev.sparkvit.engine.Tensors;
import java.util.Arrays;

/**
 * Prepends a learned class token (Devlin et al. 2019; Dosovitskiy et al. 2021) to every sequence:
 * (B, N, C) -> (B, N + 1, C). The token is timm's {@code cls_token} of shape (1, 1, C), excluded from weight decay.
 */
public final class ClassToken extends FloatModule {
    private static final long serialVersionUID = 1L;

    private final int dim;

    public ClassToken(int dim) {
        if (dim <= 0) {
            throw new IllegalArgumentException("ClassToken dim must be positive, got " + dim);
        }
        this.dim = dim;
        addParameter("", Tensors.zeros(1, 1, dim), true);
    }

    private int[] shape(Tensor<Float> x) {
        int[] shape = Tensors.shape(x);
        if (shape.length != 3 || shape[2] != dim) {
            throw new IllegalArgumentException("ClassToken(dim=" + dim + ") expects tokens (B, N, " + dim + "), got "
                    + Arrays.toString(shape));
        }
        return shape;
    }

    @Override
    public Tensor<Float> updateOutput(Tensor<Float> input) {
        int[] shape = shape(input);
        Tensor<Float> x = Tensors.contiguous(input);
        int batch = shape[0];
        int tokens = shape[1];
        Tensor<Float> y = outputTensor().resize(batch, tokens + 1, dim);
        float[] xs = Tensors.data(x);
        float[] ys = Tensors.data(y);
        float[] token = Tensors.data(weight(0));
        int xo = Tensors.offset(x);
        int yo = Tensors.offset(y);
        int to = Tensors.offset(weight(0));
        for (int b = 0; b < batch; b++) {
            int dst = yo + b * (tokens + 1) * dim;
            System.arraycopy(token, to, ys, dst, dim);
            System.arraycopy(xs, xo + b * tokens * dim, ys, dst + dim, tokens * dim);
        }
        return y;
    }

    @Override
    public Tensor<Float> updateGradInput(Tensor<Float> input, Tensor<Float> gradOutput) {
        int[] shape = shape(input);
        int batch = shape[0];
        int tokens = shape[1];
        Tensor<Float> g = Tensors.contiguous(gradOutput);
        Tensor<Float> dx = gradInputTensor().resize(batch, tokens, dim);
        float[] gs = Tensors.data(g);
        float[] ds = Tensors.data(dx);
        int go = Tensors.offset(g);
        int dof = Tensors.offset(dx);
        for (int b = 0; b < batch; b++) {
            System.arraycopy(gs, go + b * (tokens + 1) * dim + dim, ds, dof + b * tokens * dim, tokens * dim);
        }
        return dx;
    }

    @Override
    public void accGradParameters(Tensor<Float> input, Tensor<Float> gradOutput) {
        float scale = (float) getScaleW();
        if (scale == 0f) {
            return;
        }
        int[] shape = shape(input);
        int batch = shape[0];
        int tokens = shape[1];
        Tensor<Float> g = Tensors.contiguous(gradOutput);
        float[] gs = Tensors.data(g);
        int go = Tensors.offset(g);
        float[] dt = Tensors.data(gradient(0));
        int dto = Tensors.offset(gradient(0));
        for (int c = 0; c < dim; c++) {
            double sum = 0;
            for (int b = 0; b < batch; b++) {
                sum += gs[go + b * (tokens + 1) * dim + c];
            }
            dt[dto + c] += scale * (float) sum;
        }
    }

    @Override
    public String toString() {
        return "ClassToken(" + dim + ")";
    }
}
