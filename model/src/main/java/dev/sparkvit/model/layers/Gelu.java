package dev.sparkvit.model.layers;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.Blas;
import dev.sparkvit.engine.FloatModule;
import dev.sparkvit.engine.Tensors;

/**
 * GELU in its exact erf form (Hendrycks and Gimpel 2016), as {@code torch.nn.GELU()}:
 * {@code y = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))}, {@code dy/dx = Phi(x) + x phi(x)}. DLlib has no GELU layer.
 *
 * <p>erf is Abramowitz and Stegun's formula 7.1.26 (after Hastings): for u >= 0, {@code erf(u) = 1 - t (a1 + t (a2
 * + t (a3 + t (a4 + t a5)))) exp(-u^2)} with {@code t = 1 / (1 + p u)}, absolute error below 1.5e-7, the
 * approximation PyTorch's vectorised CPU kernel uses for this GELU. With {@code u = |x| / sqrt 2}, {@code exp(-u^2) =
 * exp(-x^2 / 2)} is also phi's exponential, so each pass takes one exponential per element (MKL's {@code vsExp})
 * and plain arithmetic. Both passes copy chunks of {@value #CHUNK} elements into scratch arrays that start at index 0
 * and compute there: the JIT vectorises a loop only when every array in it is indexed alike (it cannot rule out that
 * two arrays indexed from different offsets overlap), and the chunks stay in the first-level cache.
 */
public final class Gelu extends FloatModule {
    private static final long serialVersionUID = 1L;
    private static final float INV_SQRT2 = (float) (1.0 / Math.sqrt(2.0));
    private static final float INV_SQRT_2PI = (float) (1.0 / Math.sqrt(2.0 * Math.PI));
    private static final float P = 0.3275911f;
    private static final float A1 = 0.254829592f;
    private static final float A2 = -0.284496736f;
    private static final float A3 = 1.421413741f;
    private static final float A4 = -1.453152027f;
    private static final float A5 = 1.061405429f;
    /** Elements per chunk: two scratch arrays of 8 KB. */
    static final int CHUNK = 2048;

    /** A chunk of x, exp(-x^2 / 2) of it, then the output (forward) or the output gradient, then Phi (backward). */
    private transient float[][] scratch;

    public Gelu() {
        Blas.requireMkl();
    }

    private float[][] scratch() {
        if (scratch == null) {
            scratch = new float[4][CHUNK];
        }
        return scratch;
    }

    /** Copies x's chunk to {@code xc} and sets {@code e[i] = exp(-xc[i]^2 / 2)}. */
    private static void gaussian(float[] xs, int from, int len, float[] xc, float[] e) {
        System.arraycopy(xs, from, xc, 0, len);
        for (int i = 0; i < len; i++) {
            e[i] = -0.5f * xc[i] * xc[i];
        }
        Blas.exp(len, e, 0, e, 0);
    }

    /** {@code 1 - erf(|x| / sqrt 2)} given {@code e = exp(-x^2 / 2)}: twice the normal tail beyond |x|. */
    private static float erfc(float absX, float e) {
        float t = 1f / (1f + P * (absX * INV_SQRT2));
        return t * (A1 + t * (A2 + t * (A3 + t * (A4 + t * A5)))) * e;
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
        float[][] s = scratch();
        float[] xc = s[0];
        float[] e = s[1];
        float[] yc = s[2];
        for (int start = 0; start < n; start += CHUNK) {
            int len = Math.min(CHUNK, n - start);
            gaussian(xs, xo + start, len, xc, e);
            for (int i = 0; i < len; i++) {
                // x Phi(x) = 0.5 (x + |x| erf(|x| / sqrt 2)), erf being odd
                float v = xc[i];
                float a = Math.abs(v);
                yc[i] = 0.5f * (v + a * (1f - erfc(a, e[i])));
            }
            System.arraycopy(yc, 0, ys, yo + start, len);
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
        float[][] s = scratch();
        float[] xc = s[0];
        float[] e = s[1];
        float[] gc = s[2];
        float[] phi = s[3];
        for (int start = 0; start < n; start += CHUNK) {
            int len = Math.min(CHUNK, n - start);
            gaussian(xs, xo + start, len, xc, e);
            System.arraycopy(gs, go + start, gc, 0, len);
            for (int i = 0; i < len; i++) {
                // Phi(x) = 0.5 + sign(x) (0.5 - tail); x / (|x| + MIN_NORMAL) is sign(x), and 0 at 0
                float v = xc[i];
                float a = Math.abs(v);
                phi[i] = 0.5f + (0.5f - 0.5f * erfc(a, e[i])) * (v / (a + Float.MIN_NORMAL));
            }
            for (int i = 0; i < len; i++) {
                gc[i] *= phi[i] + xc[i] * INV_SQRT_2PI * e[i];
            }
            System.arraycopy(gc, 0, ds, dof + start, len);
        }
        return dx;
    }

    @Override
    public String toString() {
        return "GELU(exact)";
    }
}
