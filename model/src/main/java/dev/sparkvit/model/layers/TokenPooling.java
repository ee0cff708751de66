package dev.sparkvit.model.layers;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatModule;
import dev.sparkvit.engine.Tensors;
import java.util.Arrays;

/**
 * Reduces tokens (B, T, C) to one feature vector (B, C), as timm's {@code global_pool}: the class token
 * ({@code token}) or the mean of the patch tokens after the {@code prefixTokens} leading ones ({@code avg}).
 */
public final class TokenPooling extends FloatModule {
    private static final long serialVersionUID = 1L;

    /** Which token(s) become the feature vector. */
    public enum Mode {
        /** The class token (index 0). */
        CLASS_TOKEN,
        /** The mean of the patch tokens. */
        MEAN
    }

    private final Mode mode;
    private final int prefixTokens;

    public TokenPooling(Mode mode, int prefixTokens) {
        if (mode == Mode.CLASS_TOKEN && prefixTokens < 1) {
            throw new IllegalArgumentException("class-token pooling needs a class token");
        }
        if (prefixTokens < 0) {
            throw new IllegalArgumentException("prefix tokens must be non-negative, got " + prefixTokens);
        }
        this.mode = mode;
        this.prefixTokens = prefixTokens;
    }

    private int[] shape(Tensor<Float> x) {
        int[] shape = Tensors.shape(x);
        if (shape.length != 3 || shape[1] <= prefixTokens) {
            throw new IllegalArgumentException("pooling expects tokens (B, T, C) with more than " + prefixTokens
                    + " tokens, got " + Arrays.toString(shape));
        }
        return shape;
    }

    @Override
    public Tensor<Float> updateOutput(Tensor<Float> input) {
        int[] shape = shape(input);
        int batch = shape[0];
        int tokens = shape[1];
        int dim = shape[2];
        Tensor<Float> x = Tensors.contiguous(input);
        Tensor<Float> y = outputTensor().resize(batch, dim);
        float[] xs = Tensors.data(x);
        float[] ys = Tensors.data(y);
        int xo = Tensors.offset(x);
        int yo = Tensors.offset(y);
        for (int b = 0; b < batch; b++) {
            int src = xo + b * tokens * dim;
            if (mode == Mode.CLASS_TOKEN) {
                System.arraycopy(xs, src, ys, yo + b * dim, dim);
            } else {
                int count = tokens - prefixTokens;
                for (int c = 0; c < dim; c++) {
                    double sum = 0;
                    for (int t = prefixTokens; t < tokens; t++) {
                        sum += xs[src + t * dim + c];
                    }
                    ys[yo + b * dim + c] = (float) (sum / count);
                }
            }
        }
        return y;
    }

    @Override
    public Tensor<Float> updateGradInput(Tensor<Float> input, Tensor<Float> gradOutput) {
        int[] shape = shape(input);
        int batch = shape[0];
        int tokens = shape[1];
        int dim = shape[2];
        Tensor<Float> g = Tensors.contiguous(gradOutput);
        Tensor<Float> dx = gradInputTensor().resize(batch, tokens, dim).zero();
        float[] gs = Tensors.data(g);
        float[] ds = Tensors.data(dx);
        int go = Tensors.offset(g);
        int dof = Tensors.offset(dx);
        for (int b = 0; b < batch; b++) {
            int dst = dof + b * tokens * dim;
            if (mode == Mode.CLASS_TOKEN) {
                System.arraycopy(gs, go + b * dim, ds, dst, dim);
            } else {
                float inv = 1f / (tokens - prefixTokens);
                for (int t = prefixTokens; t < tokens; t++) {
                    for (int c = 0; c < dim; c++) {
                        ds[dst + t * dim + c] = gs[go + b * dim + c] * inv;
                    }
                }
            }
        }
        return dx;
    }

    @Override
    public String toString() {
        return "TokenPooling(" + mode + ")";
    }
}
