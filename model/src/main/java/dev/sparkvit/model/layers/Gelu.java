package dev.sparkvit.model.layers;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.Blas;
import dev.sparkvit.engine.FloatModule;
import dev.sparkvit.engine.Tensors;

/**
 * GELU in its exact erf form (Hendrycks and Gimpel 2016), as {@code torch.nn.GELU()}:
 * {@code y = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))}, {@code dy/dx = Phi(x) + x phi(x)}. DLlib has no GELU layer.
 * erf comes from MKL's vectorised {@code vsErf}.
 */
public final class Gelu extends FloatModule {
    private static final long serialVersionUID = 1L;
    private static final float INV_SQRT2 = (float) (1.0 / Math.sqrt(2.0));
    private static final float INV_SQRT_2PI = (float) (1.0 / Math.sqrt(2.0 * Math.PI));

    private transient float[] buffer;

    public Gelu() {
        Blas.requireMkl();
    }

    /** {@code buffer[i] = erf(x[i] / sqrt 2)} for the n elements of x. */
    private float[] erfOfScaled(float[] xs, int xo, int n) {
        if (buffer == null || buffer.length < n) {
            buffer = new float[n];
        }
        for (int i = 0; i < n; i++) {
            buffer[i] = xs[xo + i] * INV_SQRT2;
        }
        Blas.erf(n, buffer, 0, buffer, 0);
        return buffer;
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
        float[] erf = erfOfScaled(xs, xo, n);
        for (int i = 0; i < n; i++) {
            ys[yo + i] = 0.5f * xs[xo + i] * (1f + erf[i]);
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
        float[] erf = erfOfScaled(xs, xo, n);
        for (int i = 0; i < n; i++) {
            float v = xs[xo + i];
            float cdf = 0.5f * (1f + erf[i]);
            float pdf = INV_SQRT_2PI * (float) Math.exp(-0.5 * v * v);
            ds[dof + i] = gs[go + i] * (cdf + v * pdf);
        }
        return dx;
    }

    @Override
    public String toString() {
        return "GELU(exact)";
    }
}
