package dev.sparkvit.engine.blas;

/**
 * Single-precision GEMM in the Fortran BLAS convention: column-major {@code C = alpha * op(A) * op(B) + beta * C},
 * op(A) m x k, op(B) k x n, C m x n; {@code lda}, {@code ldb}, {@code ldc} are the column strides. Callers pass
 * checked arguments ({@link RowMajorGemm} does): the natives behind it do not check array bounds.
 */
public interface Sgemm {
    /** The backend's name as selected and reported: {@code mkl} or {@code openblas}. */
    String name();

    void sgemm(boolean transposeA, boolean transposeB, int m, int n, int k, float alpha, float[] a, int aOffset,
            int lda, float[] b, int bOffset, int ldb, float beta, float[] c, int cOffset, int ldc);
}
