package dev.sparkvit.engine.blas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * MKL and OpenBLAS compute the same row-major products as a double-precision reference, within float rounding, for
 * every transpose combination, with offsets, strides wider than the rows, alpha and beta; and MKL stays MKL once
 * OpenBLAS shares the process. Skipped where OpenBLAS does not load (submit/openblas.sh installs it).
 */
class GemmBackendParityTest {
    private static final RowMajorGemm MKL = new RowMajorGemm(MklSgemm.INSTANCE);
    private static RowMajorGemm openBlas;
    private static String skipReason;

    @BeforeAll
    static void loadOpenBlas() {
        try {
            openBlas = new RowMajorGemm(OpenBlasSgemm.load(OpenBlasLibrary.configured()));
        } catch (IllegalStateException e) {
            skipReason = e.getMessage();
        }
    }

    private static void assumeOpenBlas() {
        assumeTrue(openBlas != null, () -> "OpenBLAS not loadable: " + skipReason);
    }

    private static float[] random(SplittableRandom random, int length) {
        float[] x = new float[length];
        for (int i = 0; i < length; i++) {
            x[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return x;
    }

    /** A stored matrix: rows x cols at offset with row stride ld, in an array that ends with its last row. */
    private record Stored(float[] data, int offset, int ld) {
        static Stored of(SplittableRandom random, int rows, int cols, int offset, int pad) {
            int ld = cols + pad;
            return new Stored(random(random, offset + (rows - 1) * ld + cols), offset, ld);
        }

        double at(int r, int c) {
            return data[offset + r * ld + c];
        }
    }

    @ParameterizedTest(name = "transA={0} transB={1} m={2} n={3} k={4}")
    @CsvSource({
        "false, false, 7, 5, 9", "false, true, 7, 5, 9", "true, false, 7, 5, 9", "true, true, 7, 5, 9",
        "false, false, 65, 64, 65", "false, true, 65, 65, 64", "true, false, 64, 65, 65", "true, true, 33, 70, 48",
        "false, true, 130, 192, 96", "true, false, 96, 192, 130"})
    void backendsAgreeWithTheReference(boolean transA, boolean transB, int m, int n, int k) {
        assumeOpenBlas();
        SplittableRandom random = new SplittableRandom(31L * m + 7L * n + k + (transA ? 1 : 0) + (transB ? 2 : 0));
        Stored a = Stored.of(random, transA ? k : m, transA ? m : k, 3, 5);
        Stored b = Stored.of(random, transB ? n : k, transB ? k : n, 2, 1);
        Stored c0 = Stored.of(random, m, n, 4, 3);
        float alpha = 0.75f;
        float beta = -1.5f;

        float[] expected = c0.data().clone();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    sum += (transA ? a.at(p, i) : a.at(i, p)) * (transB ? b.at(j, p) : b.at(p, j));
                }
                expected[c0.offset() + i * c0.ld() + j] = (float) (alpha * sum + beta * c0.at(i, j));
            }
        }
        float tolerance = 2e-6f * k + 1e-6f;
        for (RowMajorGemm gemm : new RowMajorGemm[] {MKL, openBlas}) {
            float[] c = c0.data().clone();
            gemm.gemm(transA, transB, m, n, k, alpha, a.data(), a.offset(), a.ld(), b.data(), b.offset(), b.ld(),
                    beta, c, c0.offset(), c0.ld());
            // within the tolerance inside C; the offset and the padding between rows untouched
            assertArrayEquals(expected, c, tolerance, gemm.backend().name());
        }
    }

    @Test
    void concurrentCallersGetTheSequentialResults() throws Exception {
        assumeOpenBlas();
        int n = 96;
        SplittableRandom random = new SplittableRandom(5);
        float[][] as = new float[8][];
        float[][] bs = new float[8][];
        float[][] sequential = new float[8][];
        for (int i = 0; i < 8; i++) {
            as[i] = random(random, n * n);
            bs[i] = random(random, n * n);
            sequential[i] = new float[n * n];
            openBlas.gemm(false, true, n, n, n, 1f, as[i], 0, n, bs[i], 0, n, 0f, sequential[i], 0, n);
        }
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<?>[] runs = new Future<?>[2];
            for (int t = 0; t < 2; t++) {
                runs[t] = pool.submit(() -> {
                    float[] c = new float[n * n];
                    for (int round = 0; round < 50; round++) {
                        int i = round % 8;
                        openBlas.gemm(false, true, n, n, n, 1f, as[i], 0, n, bs[i], 0, n, 0f, c, 0, n);
                        assertArrayEquals(sequential[i], c);
                    }
                    return null;
                });
            }
            for (Future<?> run : runs) {
                run.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * With OpenBLAS loaded (globally, by netlib), MKL.vsgemm must still run MKL's own sgemm. Both sum short inner
     * products in the same order (bit-identical up to k = 512 here), but split a long one differently: identical
     * results at k = 2048 would mean OpenBLAS answered both.
     */
    @Test
    void mklStaysMklWhenOpenBlasIsLoaded() {
        assumeOpenBlas();
        int n = 64;
        int k = 2048;
        SplittableRandom random = new SplittableRandom(11);
        float[] a = random(random, n * k);
        float[] b = random(random, k * n);
        float[] viaMkl = new float[n * n];
        float[] viaOpenBlas = new float[n * n];
        MKL.gemm(false, false, n, n, k, 1f, a, 0, k, b, 0, n, 0f, viaMkl, 0, n);
        openBlas.gemm(false, false, n, n, k, 1f, a, 0, k, b, 0, n, 0f, viaOpenBlas, 0, n);
        assertFalse(Arrays.equals(viaMkl, viaOpenBlas), "MKL and OpenBLAS gave bit-identical products");
        assertArrayEquals(viaMkl, viaOpenBlas, 1e-3f);
        assertEquals("mkl", MKL.backend().name());
    }
}
