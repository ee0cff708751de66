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
 * per-element loops vectorise.
 */
public final class LayerNorm extends FloatModule {
    private static final long serialVersionUID = 1L;
    /** timm's ViT epsilon. */
    public static final double DEFAULT_EPS = 1e-6;

    private final int dim;
    private final double eps;
    private transient float[] mean;
    private transient float[] rstd;
    private transient float[] scratch;

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

    @Override
    public Tensor<Float> updateOutput(Tensor<Float> input) {
        int rows = rows(input);
        Tensor<Float> x = Tensors.contiguous(input);
        Tensor<Float> y = outputTensor().resizeAs(x);
        if (mean == null || mean.length < rows) {
            mean = new float[rows];
            rstd = new float[rows];
        }
        float[] xs = Tensors.data(x);
        float[] ys = Tensors.data(y);
        float[] w = Tensors.data(weight(0));
        float[] b = Tensors.data(weight(1));
        int xo = Tensors.offset(x);
        int yo = Tensors.offset(y);
        int wo = Tensors.offset(weight(0));
        int bo = Tensors.offset(weight(1));
        for (int r = 0; r < rows; r++) {
            int xr = xo + r * dim;
            int yr = yo + r * dim;
            float m = Reductions.sum(xs, xr, dim) / dim;
            float inv = (float) (1.0 / Math.sqrt(Reductions.squaredDeviations(xs, xr, dim, m) / dim + eps));
            mean[r] = m;
            rstd[r] = inv;
            for (int c = 0; c < dim; c++) {
                ys[yr + c] = (xs[xr + c] - m) * inv * w[wo + c] + b[bo + c];
            }
        }
        return y;
    }

    private float[] scratch(int size) {
        if (scratch == null || scratch.length < size) {
            scratch = new float[size];
        }
        return scratch;
    }

    @Override
    public Tensor<Float> updateGradInput(Tensor<Float> input, Tensor<Float> gradOutput) {
        int rows = rows(input);
        Tensor<Float> x = Tensors.contiguous(input);
        Tensor<Float> g = Tensors.contiguous(gradOutput);
        Tensor<Float> dx = gradInputTensor().resizeAs(x);
        float[] xs = Tensors.data(x);
        float[] gs = Tensors.data(g);
        float[] ds = Tensors.data(dx);
        float[] w = Tensors.data(weight(0));
        int xo = Tensors.offset(x);
        int go = Tensors.offset(g);
        int dof = Tensors.offset(dx);
        int wo = Tensors.offset(weight(0));
        float[] buffer = scratch(2 * dim); // g * w, then xhat
        for (int r = 0; r < rows; r++) {
            int xr = xo + r * dim;
            int gr = go + r * dim;
            int dr = dof + r * dim;
            float m = mean[r];
            float inv = rstd[r];
            for (int c = 0; c < dim; c++) {
                buffer[c] = gs[gr + c] * w[wo + c];
                buffer[dim + c] = (xs[xr + c] - m) * inv;
            }
            float meanGw = Reductions.sum(buffer, 0, dim) / dim;
            float meanGwXhat = Reductions.dot(buffer, 0, buffer, dim, dim) / dim;
            for (int c = 0; c < dim; c++) {
                ds[dr + c] = inv * (buffer[c] - meanGw - buffer[dim + c] * meanGwXhat);
            }
        }
        return dx;
    }

    @Override
    public void accGradParameters(Tensor<Float> input, Tensor<Float> gradOutput) {
        float scaleW = (float) getScaleW();
        float scaleB = (float) getScaleB();
        if (scaleW == 0f && scaleB == 0f) {
            return;
        }
        int rows = rows(input);
        Tensor<Float> x = Tensors.contiguous(input);
        Tensor<Float> g = Tensors.contiguous(gradOutput);
        float[] xs = Tensors.data(x);
        float[] gs = Tensors.data(g);
        int xo = Tensors.offset(x);
        int go = Tensors.offset(g);
        float[] sums = scratch(2 * dim); // dweight, then dbias
        java.util.Arrays.fill(sums, 0, 2 * dim, 0f);
        for (int r = 0; r < rows; r++) {
            int xr = xo + r * dim;
            int gr = go + r * dim;
            float m = mean[r];
            float inv = rstd[r];
            for (int c = 0; c < dim; c++) {
                float gv = gs[gr + c];
                sums[c] += gv * ((xs[xr + c] - m) * inv);
                sums[dim + c] += gv;
            }
        }
        float[] gw = Tensors.data(gradient(0));
        float[] gb = Tensors.data(gradient(1));
        int gwo = Tensors.offset(gradient(0));
        int gbo = Tensors.offset(gradient(1));
        for (int c = 0; c < dim; c++) {
            gw[gwo + c] += scaleW * sums[c];
            gb[gbo + c] += scaleB * sums[dim + c];
        }
    }

    @Override
    public String toString() {
        return "LayerNorm(" + dim + ", eps=" + eps + ")";
    }
}
