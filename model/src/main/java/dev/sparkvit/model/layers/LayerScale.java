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

    @Override
    public Tensor<Float> updateOutput(Tensor<Float> input) {
        checkShape(input);
        Tensor<Float> x = Tensors.contiguous(input);
        Tensor<Float> y = outputTensor().resizeAs(x);
        float[] xs = Tensors.data(x);
        float[] ys = Tensors.data(y);
        float[] g = Tensors.data(gamma());
        int xo = Tensors.offset(x);
        int yo = Tensors.offset(y);
        int go = Tensors.offset(gamma());
        int rows = Tensors.size(x) / dim;
        for (int r = 0; r < rows; r++) {
            int base = r * dim;
            for (int c = 0; c < dim; c++) {
                ys[yo + base + c] = xs[xo + base + c] * g[go + c];
            }
        }
        return y;
    }

    @Override
    public Tensor<Float> updateGradInput(Tensor<Float> input, Tensor<Float> gradOutput) {
        Tensor<Float> gOut = Tensors.contiguous(gradOutput);
        Tensor<Float> dx = gradInputTensor().resizeAs(gOut);
        float[] gs = Tensors.data(gOut);
        float[] ds = Tensors.data(dx);
        float[] g = Tensors.data(gamma());
        int so = Tensors.offset(gOut);
        int dof = Tensors.offset(dx);
        int go = Tensors.offset(gamma());
        int rows = Tensors.size(gOut) / dim;
        for (int r = 0; r < rows; r++) {
            int base = r * dim;
            for (int c = 0; c < dim; c++) {
                ds[dof + base + c] = gs[so + base + c] * g[go + c];
            }
        }
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
        int rows = Tensors.size(x) / dim;
        float[] sums = new float[dim];
        for (int r = 0; r < rows; r++) {
            int base = r * dim;
            for (int c = 0; c < dim; c++) {
                sums[c] += xs[xo + base + c] * gs[so + base + c];
            }
        }
        float[] dg = Tensors.data(gradient(0));
        int dgo = Tensors.offset(gradient(0));
        for (int c = 0; c < dim; c++) {
            dg[dgo + c] += scale * sums[c];
        }
    }

    @Override
    public String toString() {
        return "LayerScale(dim=" + dim + ", initValue=" + initValue + ")";
    }
}
