package dev.sparkvit.engine.blas;

/**
 * Row-major {@code C = alpha * op(A) * op(B) + beta * C} on one backend: op(A) is m x k, op(B) is k x n, C is m x n;
 * {@code lda}, {@code ldb}, {@code ldc} are the row strides of the stored matrices. Checks every index the product
 * touches before calling the natives, which do not.
 */
public final class RowMajorGemm {
    private final Sgemm backend;

    public RowMajorGemm(Sgemm backend) {
        this.backend = backend;
    }

    public Sgemm backend() {
        return backend;
    }

    public void gemm(boolean transposeA, boolean transposeB, int m, int n, int k, float alpha, float[] a,
            int aOffset, int lda, float[] b, int bOffset, int ldb, float beta, float[] c, int cOffset, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("gemm sizes must not be negative: m=" + m + " n=" + n + " k=" + k);
        }
        if (m == 0 || n == 0) {
            return;
        }
        checkMatrix("C", c, cOffset, ldc, m, n);
        if (k == 0) {
            scale(beta, c, cOffset, ldc, m, n);
            return;
        }
        checkMatrix("A", a, aOffset, lda, transposeA ? k : m, transposeA ? m : k);
        checkMatrix("B", b, bOffset, ldb, transposeB ? n : k, transposeB ? k : n);
        // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands.
        backend.sgemm(transposeB, transposeA, n, m, k, alpha, b, bOffset, ldb, a, aOffset, lda, beta, c, cOffset,
                ldc);
    }

    private static void checkMatrix(String name, float[] x, int offset, int ld, int rows, int cols) {
        if (offset < 0 || ld < cols || (long) offset + (long) (rows - 1) * ld + cols > x.length) {
            throw new IndexOutOfBoundsException("gemm matrix " + name + " (" + rows + " x " + cols + ", offset "
                    + offset + ", row stride " + ld + ") does not fit its array of " + x.length + " elements");
        }
    }

    /** {@code C = beta * C}, with beta 0 writing zeros whatever C held (the BLAS convention). */
    private static void scale(float beta, float[] c, int offset, int ld, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int start = offset + r * ld;
            for (int j = start; j < start + cols; j++) {
                c[j] = beta == 0f ? 0f : beta * c[j];
            }
        }
    }
}
