package dev.sparkvit.engine;

import com.intel.analytics.bigdl.mkl.MKL;

/**
 * Row-major single-precision BLAS and vector math through the MKL natives bundled with BigDL's core jar.
 * sparkvit's own layers call these directly on the tensors' backing arrays.
 */
public final class Blas {
    private Blas() {
    }

    /** Fails with a clear message when the MKL natives did not load (only x86-64 Linux is supported). */
    public static void requireMkl() {
        if (!MKL.isMKLLoaded()) {
            throw new IllegalStateException("BigDL's MKL natives did not load: sparkvit needs an x86-64 Linux JVM with "
                    + "com.intel.analytics.bigdl.core.dist:all on the classpath (see docs/ENGINE.md)");
        }
    }

    /**
     * {@code C = alpha * op(A) * op(B) + beta * C} on row-major matrices: op(A) is m x k, op(B) is k x n, C is m x n;
     * {@code lda}, {@code ldb}, {@code ldc} are the row strides of the stored matrices.
     */
    public static void gemm(boolean transposeA, boolean transposeB, int m, int n, int k, float alpha,
            float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb, float beta,
            float[] c, int cOffset, int ldc) {
        if (m == 0 || n == 0) {
            return;
        }
        // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands.
        MKL.vsgemm(transposeB ? 't' : 'n', transposeA ? 't' : 'n', n, m, k, alpha,
                b, bOffset, ldb, a, aOffset, lda, beta, c, cOffset, ldc);
    }

    /** {@code y[i] = erf(x[i])} for n elements. */
    public static void erf(int n, float[] x, int xOffset, float[] y, int yOffset) {
        MKL.vsErf(n, x, xOffset, y, yOffset);
    }

    /** {@code y[i] = exp(x[i])} for n elements. */
    public static void exp(int n, float[] x, int xOffset, float[] y, int yOffset) {
        MKL.vsExp(n, x, xOffset, y, yOffset);
    }
}
