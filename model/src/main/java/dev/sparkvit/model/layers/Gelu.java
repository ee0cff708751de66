package dev.sparkvit.model.layers;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.Blas;
import dev.sparkvit.engine.FloatModule;
import dev.sparkvit.engine.Tensors;

/**
 * GELU in its exact erf form (Hendrycks and Gimpel 2016), as {@code torch.nn.GELU()}:
 * {@code y = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))}, {@code dy/dx = Phi(x) + x phi(x)}. DLlib has no GELU layer.
 * erf comes from MKL's vectorised {@code vsErf} and phi's exponential from {@code vsExp}; the erf values of the
 * forward pass are kept for the backward pass (which, as in every DLlib layer, follows the forward pass of the same
 * input), so backward computes no erf.
 */
public final class Gelu extends FloatModule {
    private static final long serialVersionUID = 1L;
    private static final float INV_SQRT2 = (float) (1.0 / Math.sqrt(2.0));
    private static final float INV_SQRT_2PI = (float) (1.0 / Math.sqrt(2.0 * Math.PI));

    /** erf(x / sqrt 2) of the last forward's input, its first {@code erfCount} elements valid. */
    private transient float[] erf;
    private transient int erfCount = -1;
    private transient float[] exp;

    public Gelu() {
        Blas.requireMkl();
    }

    /** {@code erf[i] = erf(x[i] / sqrt 2)} for the n elements of x. */
    private float[] erfOfScaled(float[] xs, int xo, int n) {
        if (erf == null || erf.length < n) {
            erf = new float[n];
        }
        float[] e = erf;
        for (int i = 0; i < n; i++) {
            e[i] = xs[xo + i] * INV_SQRT2;
        }
        Blas.erf(n, e, 0, e, 0);
        erfCount = n;
        return e;
    }

    @Override
    public Tensor<Float> updateOutput(Tensor<Float> input) {
        Tensor<Float> x = Tensors.contiguous(input);
        Tensor<Float> y = outputTensor().resizeAs(x);
        float[] xs = Tensors.data(x);
        float[] ys = Tensors.data(y);
        int xo = Tensors.offset(x);
        int yo = Tensors.offset(y);
        int n = Tensors.size(x);
        float[] e = erfOfScaled(xs, xo, n);
        for (int i = 0; i < n; i++) {
            float v = xs[xo + i];
            ys[yo + i] = 0.5f * v + 0.5f * v * e[i];
        }
        return y;
    }

    @Override
    public Tensor<Float> updateGradInput(Tensor<Float> input, Tensor<Float> gradOutput) {
        Tensor<Float> x = Tensors.contiguous(input);
        Tensor<Float> g = Tensors.contiguous(gradOutput);
        Tensor<Float> dx = gradInputTensor().resizeAs(x);
        float[] xs = Tensors.data(x);
        float[] gs = Tensors.data(g);
        float[] ds = Tensors.data(dx);
        int xo = Tensors.offset(x);
        int go = Tensors.offset(g);
        int dof = Tensors.offset(dx);
        int n = Tensors.size(x);
        float[] e = erfCount == n ? erf : erfOfScaled(xs, xo, n);
        if (exp == null || exp.length < n) {
            exp = new float[n];
        }
        float[] pdf = exp;
        for (int i = 0; i < n; i++) {
            float v = xs[xo + i];
            pdf[i] = -0.5f * v * v;
        }
        Blas.exp(n, pdf, 0, pdf, 0);
        for (int i = 0; i < n; i++) {
            float v = xs[xo + i];
            ds[dof + i] = gs[go + i] * (0.5f + 0.5f * e[i] + v * INV_SQRT_2PI * pdf[i]);
        }
        return dx;
    }

    @Override
    public String toString() {
        return "GELU(exact)";
    }
}
