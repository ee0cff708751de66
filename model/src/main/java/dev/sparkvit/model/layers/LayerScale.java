package dev.sparkvit.model.layers;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatModule;
import dev.sparkvit.engine.Tensors;
import java.util.Arrays;

/**
 * LayerScale (Touvron et al. 2021, "Going deeper with Image Transformers"; design documents 000 and 001): a learnable
 * per-channel gate {@code gamma} of shape (dim), every element initialised to {@code initValue}, applied to the last
 * dimension of a channels-last tensor of any rank: {@code output[..., c] = x[..., c] * gamma[c]}. Same shape out.
 * {@code gamma} is excluded from weight decay.
 */
public final class LayerScale extends FloatModule {
    private static final long serialVersionUID = 1L;
    /** The class reference's default initial value. */
    public static final double DEFAULT_INIT = 1e-4;

    private final int dim;
    private final double initValue;
    private transient float[][] scratch;

    public LayerScale(int dim) {
        this(dim, DEFAULT_INIT);
    }

    public LayerScale(int dim, double initValue) {
        if (dim <= 0) {
            throw new IllegalArgumentException("LayerScale dim must be positive, got " + dim);
        }
        if (!Double.isFinite(initValue)) {
            throw new IllegalArgumentException("LayerScale initValue must be finite, got " + initValue);
        }
        this.dim = dim;
        this.initValue = initValue;
        addParameter("gamma", Tensors.zeros(dim), true).fill((float) initValue);
    }

    public int dim() {
        return dim;
    }

    public double initValue() {
        return initValue;
    }

    /** The live gamma tensor. */
    public Tensor<Float> gamma() {
        return weight(0);
    }

    /** Scalar multiplies of one forward pass over {@code numTokens} tokens (multiplies only, the documents' rule). */
    public long flopCount(long numTokens) {
        return numTokens * dim;
    }

    private void checkShape(Tensor<Float> x) {
        int[] shape = Tensors.shape(x);
        if (shape.length == 0 || shape[shape.length - 1] != dim) {
            throw new IllegalArgumentException("LayerScale(dim=" + dim + ") got input whose last dimension is "
                    + (shape.length == 0 ? "missing" : shape[shape.length - 1]) + " (shape "
                    + Arrays.toString(shape) + "); it must equal dim");
        }
    }

    /** Scratch arrays of one chunk of rows ({@link RowChunks}), allocated on first use. */
    private float[][] scratch() {
        if (scratch == null) {
            scratch = new float[3][RowChunks.length(dim)];
        }
        return scratch;
    }

    /** {@code out = in * gamma} per channel, through staged chunks; {@code in} and {@code out} are contiguous. */
    private void scale(Tensor<Float> in, Tensor<Float> out) {
        float[] is = Tensors.data(in);
        float[] os = Tensors.data(out);
        int io = Tensors.offset(in);
        int oo = Tensors.offset(out);
        int n = Tensors.size(in);
        float[][] s = scratch();
        float[] c = s[0];
        float[] g = RowChunks.tile(Tensors.data(gamma()), Tensors.offset(gamma()), dim, s[1]);
        int chunk = RowChunks.length(dim);
        for (int start = 0; start < n; start += chunk) {
            int len = Math.min(chunk, n - start);
            System.arraycopy(is, io + start, c, 0, len);
            for (int i = 0; i < len; i++) {
                c[i] *= g[i];
            }
            System.arraycopy(c, 0, os, oo + start, len);
        }
    }

    @Override
    public Tensor<Float> updateOutput(Tensor<Float> input) {
        checkShape(input);
        Tensor<Float> x = Tensors.contiguous(input);
        Tensor<Float> y = outputTensor().resizeAs(x);
        scale(x, y);
        return y;
    }

    @Override
    public Tensor<Float> updateGradInput(Tensor<Float> input, Tensor<Float> gradOutput) {
        Tensor<Float> gOut = Tensors.contiguous(gradOutput);
        Tensor<Float> dx = gradInputTensor().resizeAs(gOut);
        scale(gOut, dx);
        return dx;
    }

    @Override
    public void accGradParameters(Tensor<Float> input, Tensor<Float> gradOutput) {
        float scale = (float) getScaleW();
        if (scale == 0f) {
            return;
        }
        Tensor<Float> x = Tensors.contiguous(input);
        Tensor<Float> gOut = Tensors.contiguous(gradOutput);
        float[] xs = Tensors.data(x);
        float[] gs = Tensors.data(gOut);
        int xo = Tensors.offset(x);
        int so = Tensors.offset(gOut);
        int n = Tensors.size(x);
        float[][] s = scratch();
        float[] xc = s[0];
        float[] gc = s[1];
        float[] sums = s[2]; // tiled sums of x * g
        java.util.Arrays.fill(sums, 0f);
        int chunk = RowChunks.length(dim);
        for (int start = 0; start < n; start += chunk) {
            int len = Math.min(chunk, n - start);
            System.arraycopy(xs, xo + start, xc, 0, len);
            System.arraycopy(gs, so + start, gc, 0, len);
            for (int i = 0; i < len; i++) {
                sums[i] += xc[i] * gc[i];
            }
        }
        RowChunks.fold(sums, dim, scale, Tensors.data(gradient(0)), Tensors.offset(gradient(0)));
    }

    @Override
    public String toString() {
        return "LayerScale(dim=" + dim + ", initValue=" + initValue + ")";
    }
}
