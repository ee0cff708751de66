package dev.sparkvit.model.layers;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatModule;
import dev.sparkvit.engine.Tensors;
import java.util.Arrays;

/**
 * Adds a learned position embedding of shape (1, T, C) to tokens (B, T, C), as timm's {@code pos_embed}; excluded
 * from weight decay.
 */
public final class PositionEmbedding extends FloatModule {
    private static final long serialVersionUID = 1L;

    private final int numTokens;
    private final int dim;

    public PositionEmbedding(int numTokens, int dim) {
        if (numTokens <= 0 || dim <= 0) {
            throw new IllegalArgumentException("PositionEmbedding sizes must be positive, got " + numTokens + " x "
                    + dim);
        }
        this.numTokens = numTokens;
        this.dim = dim;
        addParameter("", Tensors.zeros(1, numTokens, dim), true);
    }

    private int batch(Tensor<Float> x) {
        int[] shape = Tensors.shape(x);
        if (shape.length != 3 || shape[1] != numTokens || shape[2] != dim) {
            throw new IllegalArgumentException("PositionEmbedding expects tokens (B, " + numTokens + ", " + dim
                    + "), got " + Arrays.toString(shape));
        }
        return shape[0];
    }

    @Override
    public Tensor<Float> updateOutput(Tensor<Float> input) {
        int batch = batch(input);
        Tensor<Float> x = Tensors.contiguous(input);
        Tensor<Float> y = outputTensor().resizeAs(x);
        float[] xs = Tensors.data(x);
        float[] ys = Tensors.data(y);
        float[] pos = Tensors.data(weight(0));
        int xo = Tensors.offset(x);
        int yo = Tensors.offset(y);
        int po = Tensors.offset(weight(0));
        int per = numTokens * dim;
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < per; i++) {
                ys[yo + b * per + i] = xs[xo + b * per + i] + pos[po + i];
            }
        }
        return y;
    }

    @Override
    public Tensor<Float> updateGradInput(Tensor<Float> input, Tensor<Float> gradOutput) {
        batch(input);
        return gradInputTensor().resizeAs(gradOutput).copy(gradOutput);
    }

    @Override
    public void accGradParameters(Tensor<Float> input, Tensor<Float> gradOutput) {
        float scale = (float) getScaleW();
        if (scale == 0f) {
            return;
        }
        int batch = batch(input);
        Tensor<Float> g = Tensors.contiguous(gradOutput);
        float[] gs = Tensors.data(g);
        int go = Tensors.offset(g);
        float[] dp = Tensors.data(gradient(0));
        int dpo = Tensors.offset(gradient(0));
        int per = numTokens * dim;
        for (int i = 0; i < per; i++) {
            double sum = 0;
            for (int b = 0; b < batch; b++) {
                sum += gs[go + b * per + i];
            }
            dp[dpo + i] += scale * (float) sum;
        }
    }

    @Override
    public String toString() {
        return "PositionEmbedding(" + numTokens + " x " + dim + ")";
    }
}
