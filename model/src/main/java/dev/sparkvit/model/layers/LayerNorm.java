package dev.sparkvit.model.layers;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatModule;
import dev.sparkvit.engine.Tensors;
import java.util.Arrays;

/**
 * Layer normalisation over the last dimension (Ba et al. 2016) with learnable weight and bias, as
 * {@code torch.nn.LayerNorm(dim, eps)}: biased variance, {@code y = (x - mean) / sqrt(var + eps) * weight + bias}.
 * Replaces DLlib's LayerNormalization, whose gradients never reach the optimiser (docs/ENGINE.md, defect 1). Row
 * statistics and gradient sums are float: reductions run eight partial sums at once ({@link Reductions}) and the
 * element loops run over chunks of rows staged by {@link RowChunks}, where the JIT vectorises them.
 */
public final class LayerNorm extends FloatModule {
    private static final long serialVersionUID = 1L;
    /** timm's ViT epsilon. */
    public static final double DEFAULT_EPS = 1e-6;

    private final int dim;
    private final double eps;
    private transient float[] mean;
    private transient float[] rstd;
    private transient float[][] scratch;
    /** The (input, gradOutput) whose parameter-gradient sums updateGradInput left in scratch[4] and scratch[5]. */
    private transient Tensor<Float> stashInput;
    private transient Tensor<Float> stashGradOutput;

    public LayerNorm(int dim) {
        this(dim, DEFAULT_EPS);
    }

    public LayerNorm(int dim, double eps) {
        if (dim <= 0) {
            throw new IllegalArgumentException("LayerNorm dim must be positive, got " + dim);
        }
        if (!(eps > 0)) {
            throw new IllegalArgumentException("LayerNorm eps must be positive, got " + eps);
        }
        this.dim = dim;
        this.eps = eps;
        addParameter("weight", Tensors.zeros(dim), true).fill(1f);
        addParameter("bias", Tensors.zeros(dim), true);
    }

    private int rows(Tensor<Float> x) {
        int[] shape = Tensors.shape(x);
        if (shape.length == 0 || shape[shape.length - 1] != dim) {
            throw new IllegalArgumentException("LayerNorm(dim=" + dim + ") got input of shape "
                    + Arrays.toString(shape) + "; its last dimension must equal dim");
        }
        return Tensors.size(x) / dim;
    }

    /** Scratch arrays of one chunk of rows ({@link RowChunks}), allocated on first use. */
    private float[][] scratch() {
        if (scratch == null) {
            scratch = new float[6][RowChunks.length(dim)];
        }
        return scratch;
    }

    @Override
    public Tensor<Float> updateOutput(Tensor<Float> input) {
        int rows = rows(input);
        Tensor<Float> x = Tensors.contiguous(input);
        Tensor<Float> y = outputTensor().resizeAs(x);
        if (mean == null || mean.length < rows) {
            mean = new float[rows];
            rstd = new float[rows];
        }
        stashInput = null;
        float[] xs = Tensors.data(x);
        float[] ys = Tensors.data(y);
        int xo = Tensors.offset(x);
        int yo = Tensors.offset(y);
        float[][] s = scratch();
        float[] xc = s[0];
        float[] yc = s[1];
        float[] w = RowChunks.tile(Tensors.data(weight(0)), Tensors.offset(weight(0)), dim, s[2]);
        float[] b = RowChunks.tile(Tensors.data(weight(1)), Tensors.offset(weight(1)), dim, s[3]);
        int chunkRows = RowChunks.rows(dim);
        for (int r0 = 0; r0 < rows; r0 += chunkRows) {
            int n = Math.min(chunkRows, rows - r0);
            System.arraycopy(xs, xo + r0 * dim, xc, 0, n * dim);
            for (int k = 0; k < n; k++) {
                int base = k * dim;
                float m = Reductions.sum(xc, base, dim) / dim;
                float inv = (float) (1.0 / Math.sqrt(Reductions.squaredDeviations(xc, base, dim, m) / dim + eps));
                mean[r0 + k] = m;
                rstd[r0 + k] = inv;
                for (int c = base; c < base + dim; c++) {
                    yc[c] = (xc[c] - m) * inv * w[c] + b[c];
                }
            }
            System.arraycopy(yc, 0, ys, yo + r0 * dim, n * dim);
        }
        return y;
    }

    /**
     * Input gradient; on the way it also sums the weight and bias gradients of this (input, gradOutput) pair into the
     * stash, which {@link #accGradParameters} takes when DLlib's backward calls it next with the same tensors: one
     * pass over x and the output gradient instead of two.
     */
    @Override
    public Tensor<Float> updateGradInput(Tensor<Float> input, Tensor<Float> gradOutput) {
        int rows = rows(input);
        Tensor<Float> x = Tensors.contiguous(input);
        Tensor<Float> g = Tensors.contiguous(gradOutput);
        Tensor<Float> dx = gradInputTensor().resizeAs(x);
        float[] xs = Tensors.data(x);
        float[] gs = Tensors.data(g);
        float[] ds = Tensors.data(dx);
        int xo = Tensors.offset(x);
        int go = Tensors.offset(g);
        int dof = Tensors.offset(dx);
        float[][] s = scratch();
        float[] xc = s[0]; // x, then xhat
        float[] gc = s[1]; // g, then g * w, then dx
        float[] w = RowChunks.tile(Tensors.data(weight(0)), Tensors.offset(weight(0)), dim, s[2]);
        float[] sumW = s[4]; // tiled sums of g * xhat and of g: the parameter gradients, stashed
        float[] sumB = s[5];
        java.util.Arrays.fill(sumW, 0f);
        java.util.Arrays.fill(sumB, 0f);
        int chunkRows = RowChunks.rows(dim);
        for (int r0 = 0; r0 < rows; r0 += chunkRows) {
            int n = Math.min(chunkRows, rows - r0);
            System.arraycopy(xs, xo + r0 * dim, xc, 0, n * dim);
            System.arraycopy(gs, go + r0 * dim, gc, 0, n * dim);
            for (int k = 0; k < n; k++) {
                int base = k * dim;
                float m = mean[r0 + k];
                float inv = rstd[r0 + k];
                for (int c = base; c < base + dim; c++) {
                    float xhat = (xc[c] - m) * inv;
                    sumW[c] += gc[c] * xhat;
                    sumB[c] += gc[c];
                    gc[c] *= w[c];
                    xc[c] = xhat;
                }
                float meanGw = Reductions.sum(gc, base, dim) / dim;
                float meanGwXhat = Reductions.dot(gc, base, xc, base, dim) / dim;
                for (int c = base; c < base + dim; c++) {
                    gc[c] = inv * (gc[c] - meanGw - xc[c] * meanGwXhat);
                }
            }
            System.arraycopy(gc, 0, ds, dof + r0 * dim, n * dim);
        }
        stashInput = input;
        stashGradOutput = gradOutput;
        return dx;
    }

    @Override
    public void accGradParameters(Tensor<Float> input, Tensor<Float> gradOutput) {
        float scaleW = (float) getScaleW();
        float scaleB = (float) getScaleB();
        boolean stashed = stashInput == input && stashGradOutput == gradOutput;
        stashInput = null;
        stashGradOutput = null;
        if (scaleW == 0f && scaleB == 0f) {
            return;
        }
        float[][] s = scratch();
        float[] sumW = s[4];
        float[] sumB = s[5];
        if (!stashed) {
            sumParameterGradients(input, gradOutput, s[0], s[1], sumW, sumB);
        }
        RowChunks.fold(sumW, dim, scaleW, Tensors.data(gradient(0)), Tensors.offset(gradient(0)));
        RowChunks.fold(sumB, dim, scaleB, Tensors.data(gradient(1)), Tensors.offset(gradient(1)));
    }

    /** Tiled sums of {@code g * xhat} and of {@code g} over all rows, without a preceding updateGradInput. */
    private void sumParameterGradients(Tensor<Float> input, Tensor<Float> gradOutput, float[] xc, float[] gc,
            float[] sumW, float[] sumB) {
        int rows = rows(input);
        Tensor<Float> x = Tensors.contiguous(input);
        Tensor<Float> g = Tensors.contiguous(gradOutput);
        float[] xs = Tensors.data(x);
        float[] gs = Tensors.data(g);
        int xo = Tensors.offset(x);
        int go = Tensors.offset(g);
        java.util.Arrays.fill(sumW, 0f);
        java.util.Arrays.fill(sumB, 0f);
        int chunkRows = RowChunks.rows(dim);
        for (int r0 = 0; r0 < rows; r0 += chunkRows) {
            int n = Math.min(chunkRows, rows - r0);
            System.arraycopy(xs, xo + r0 * dim, xc, 0, n * dim);
            System.arraycopy(gs, go + r0 * dim, gc, 0, n * dim);
            for (int k = 0; k < n; k++) {
                int base = k * dim;
                float m = mean[r0 + k];
                float inv = rstd[r0 + k];
                for (int c = base; c < base + dim; c++) {
                    sumW[c] += gc[c] * ((xc[c] - m) * inv);
                    sumB[c] += gc[c];
                }
            }
        }
    }

    @Override
    public String toString() {
        return "LayerNorm(" + dim + ", eps=" + eps + ")";
    }
}
