package dev.sparkvit.engine.blas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RowMajorGemmTest {
    private static final RowMajorGemm MKL = new RowMajorGemm(MklSgemm.INSTANCE);

    @Test
    void multipliesRowMajorMatrices() {
        float[] a = {1, 2, 3, 4, 5, 6}; // 2 x 3
        float[] b = {1, 0, 0, 1, 1, 1}; // 3 x 2
        float[] c = new float[4];
        MKL.gemm(false, false, 2, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, c, 0, 2);
        assertArrayEquals(new float[] {4, 5, 10, 11}, c);
    }

    @Test
    void anOperandOutsideItsArrayIsRejectedBeforeTheNatives() {
        float[] a = new float[6];
        float[] c = new float[4];
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                () -> MKL.gemm(false, false, 2, 2, 3, 1f, a, 1, 3, new float[6], 0, 2, 0f, c, 0, 2));
        assertTrue(e.getMessage().startsWith("gemm matrix A (2 x 3, offset 1, row stride 3)"), e.getMessage());
        e = assertThrows(IndexOutOfBoundsException.class,
                () -> MKL.gemm(false, true, 2, 2, 3, 1f, a, 0, 3, new float[6], 0, 2, 0f, c, 0, 2));
        assertTrue(e.getMessage().startsWith("gemm matrix B (2 x 3, offset 0, row stride 2)"), e.getMessage());
        e = assertThrows(IndexOutOfBoundsException.class,
                () -> MKL.gemm(false, false, 2, 2, 3, 1f, a, 0, 3, new float[6], 0, 2, 0f, c, 0, 3));
        assertTrue(e.getMessage().startsWith("gemm matrix C"), e.getMessage());
    }

    @Test
    void anEmptyInnerDimensionScalesC() {
        float[] c = {1, 2, Float.NaN, 4, 5, 6};
        MKL.gemm(false, false, 2, 2, 0, 1f, new float[0], 0, 1, new float[0], 0, 2, 0.5f, c, 0, 3);
        assertArrayEquals(new float[] {0.5f, 1, Float.NaN, 2, 2.5f, 6}, c);
        MKL.gemm(false, false, 2, 2, 0, 1f, new float[0], 0, 1, new float[0], 0, 2, 0f, c, 0, 3);
        assertArrayEquals(new float[] {0, 0, Float.NaN, 0, 0, 6}, c);
    }

    @Test
    void negativeSizesAreRejected() {
        assertThrows(IllegalArgumentException.class,
                () -> MKL.gemm(false, false, -1, 2, 2, 1f, new float[4], 0, 2, new float[4], 0, 2, 0f, new float[4], 0,
                        2));
    }
}
