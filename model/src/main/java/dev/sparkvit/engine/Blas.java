package dev.sparkvit.engine;

import com.intel.analytics.bigdl.mkl.MKL;
import dev.sparkvit.engine.blas.BlasSelection;
import dev.sparkvit.engine.blas.MklCpuDispatch;
import dev.sparkvit.engine.blas.MklSgemm;
import dev.sparkvit.engine.blas.RowMajorGemm;

/**
 * Row-major single-precision BLAS and vector math: sparkvit's own layers call these directly on the tensors' backing
 * arrays. GEMM runs on the backend chosen once per JVM by {@code sparkvit.blas} / {@code SPARKVIT_BLAS} (MKL bundled
 * with BigDL's core jar, or OpenBLAS; see docs/ENGINE.md, "BLAS backend"); erf and exp always run on MKL.
 */
public final class Blas {
    static {
        // Before this JVM's first MKL computation: MKL's code path on AMD CPUs (MklCpuDispatch).
        MklCpuDispatch.configure();
    }

    private Blas() {
    }

    /** Fails with a clear message when the MKL natives did not load (only x86-64 Linux is supported). */
    public static void requireMkl() {
        MklSgemm.requireLoaded();
    }

    /**
     * The GEMM backend of this JVM, {@code mkl} or {@code openblas}; the first call chooses it (and logs it).
     *
     * @throws IllegalArgumentException when the setting is not a backend's name
     * @throws IllegalStateException when OpenBLAS was asked for and does not load
     */
    public static String gemmBackend() {
        return Gemm.get().backend().name();
    }

    /**
     * {@code C = alpha * op(A) * op(B) + beta * C} on row-major matrices: op(A) is m x k, op(B) is k x n, C is m x n;
     * {@code lda}, {@code ldb}, {@code ldc} are the row strides of the stored matrices.
     */
    public static void gemm(boolean transposeA, boolean transposeB, int m, int n, int k, float alpha,
            float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb, float beta,
            float[] c, int cOffset, int ldc) {
        Gemm.get().gemm(transposeA, transposeB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset,
                ldc);
    }

    /** {@code y[i] = erf(x[i])} for n elements. */
    public static void erf(int n, float[] x, int xOffset, float[] y, int yOffset) {
        MKL.vsErf(n, x, xOffset, y, yOffset);
    }

    /** {@code y[i] = exp(x[i])} for n elements. */
    public static void exp(int n, float[] x, int xOffset, float[] y, int yOffset) {
        MKL.vsExp(n, x, xOffset, y, yOffset);
    }

    /**
     * The JVM's GEMM, chosen when first used (not when Blas loads: layers only check MKL at construction). A failed
     * choice is kept and rethrown on every use, with its own type and message.
     */
    private static final class Gemm {
        private static final RowMajorGemm SELECTED;
        private static final RuntimeException FAILURE;

        static {
            RowMajorGemm selected = null;
            RuntimeException failure = null;
            try {
                selected = new RowMajorGemm(BlasSelection.forThisJvm());
            } catch (RuntimeException e) {
                failure = e;
            }
            SELECTED = selected;
            FAILURE = failure;
        }

        static RowMajorGemm get() {
            if (SELECTED == null) {
                throw FAILURE;
            }
            return SELECTED;
        }
    }
}
