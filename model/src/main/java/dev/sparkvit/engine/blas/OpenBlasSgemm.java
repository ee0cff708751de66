package dev.sparkvit.engine.blas;

import dev.ludovic.netlib.blas.NativeBLAS;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * GEMM through OpenBLAS, loaded from a system shared library by dev.ludovic.netlib's JNI binding (the one Spark 3.2+
 * ships). netlib reads the library's path from {@value #NETLIB_PATH_PROPERTY} once, when its JNI loads, so one
 * library serves the whole JVM: {@link #load} sets that property, loads, and refuses a second, different file.
 */
public final class OpenBlasSgemm implements Sgemm {
    static final String NETLIB_PATH_PROPERTY = "dev.ludovic.netlib.blas.nativeLibPath";
    /**
     * netlib warns through java.util.logging that its Java 16 Vector API fallback cannot load (it needs
     * --add-modules jdk.incubator.vector, which sparkvit does not use); its native failure is reported by {@link
     * #load} instead. Held here so the level set on it outlives garbage collection.
     */
    private static final Logger NETLIB_LOG = Logger.getLogger("dev.ludovic.netlib.blas.InstanceBuilder");
    private static OpenBlasSgemm loaded;

    private final NativeBLAS blas;
    private final Path library;

    private OpenBlasSgemm(NativeBLAS blas, Path library) {
        this.blas = blas;
        this.library = library;
    }

    /**
     * Loads OpenBLAS from {@code library} (once per JVM) and checks one small product.
     *
     * @throws IllegalStateException naming the file and what to do when it is missing or does not load, or when
     *         this JVM already loaded a different file
     */
    public static synchronized OpenBlasSgemm load(Path library) {
        if (!Files.isReadable(library)) {
            throw new IllegalStateException("OpenBLAS library " + library + " not found: install it with "
                    + "submit/openblas.sh (Debian/Ubuntu packages libopenblas0-serial, libopenblas0-pthread) or set "
                    + OpenBlasLibrary.PROPERTY + " / " + OpenBlasLibrary.ENV + " to a BLAS shared library");
        }
        if (loaded != null) {
            if (loaded.library.equals(library)) {
                return loaded;
            }
            throw new IllegalStateException("OpenBLAS is already loaded from " + loaded.library + " in this JVM; "
                    + "it cannot also load " + library + " (netlib binds one BLAS library per process)");
        }
        String preset = System.getProperty(NETLIB_PATH_PROPERTY);
        if (preset != null && !Path.of(preset).equals(library)) {
            throw new IllegalStateException(NETLIB_PATH_PROPERTY + "=" + preset + " is set and differs from the "
                    + "OpenBLAS library sparkvit was asked to load, " + library + ": set only "
                    + OpenBlasLibrary.PROPERTY);
        }
        MklSymbolBinding.bindBlasEntryPoints();
        System.setProperty(NETLIB_PATH_PROPERTY, library.toString());
        NETLIB_LOG.setLevel(Level.SEVERE);
        NativeBLAS blas;
        try {
            blas = NativeBLAS.getInstance();
        } catch (RuntimeException | LinkageError e) {
            throw new IllegalStateException("OpenBLAS library " + library + " did not load through dev.ludovic.netlib's "
                    + "JNI (not a BLAS shared library for this platform, or its own dependencies are missing): " + e,
                    e);
        }
        OpenBlasSgemm sgemm = new OpenBlasSgemm(blas, library);
        sgemm.selfCheck();
        loaded = sgemm;
        return sgemm;
    }

    /** The shared library this backend runs. */
    public Path library() {
        return library;
    }

    @Override
    public String name() {
        return "openblas";
    }

    /**
     * netlib 3.0.3 checks operand bounds more strictly than BLAS defines: it wants {@code offset + cols * ld}
     * elements where the last one read is at {@code offset + (cols - 1) * ld + rows - 1}, and so rejects a matrix
     * that ends before its stride does (the last head's V slice of SelfAttention's fused QKV rows). Such an operand
     * is passed as a packed copy; the product is the same, as OpenBLAS packs its operands anyway.
     */
    @Override
    public void sgemm(boolean transposeA, boolean transposeB, int m, int n, int k, float alpha, float[] a,
            int aOffset, int lda, float[] b, int bOffset, int ldb, float beta, float[] c, int cOffset, int ldc) {
        int aRows = transposeA ? k : m;
        int aCols = transposeA ? m : k;
        int bRows = transposeB ? n : k;
        int bCols = transposeB ? k : n;
        if ((long) aOffset + (long) aCols * lda > a.length) {
            a = packed(a, aOffset, lda, aRows, aCols);
            aOffset = 0;
            lda = aRows;
        }
        if ((long) bOffset + (long) bCols * ldb > b.length) {
            b = packed(b, bOffset, ldb, bRows, bCols);
            bOffset = 0;
            ldb = bRows;
        }
        blas.sgemm(transposeA ? "T" : "N", transposeB ? "T" : "N", m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb,
                beta, c, cOffset, ldc);
    }

    private static float[] packed(float[] x, int offset, int ld, int rows, int cols) {
        float[] copy = new float[rows * cols];
        for (int j = 0; j < cols; j++) {
            System.arraycopy(x, offset + j * ld, copy, j * rows, rows);
        }
        return copy;
    }

    private void selfCheck() {
        float[] a = {1, 3, 2, 4}; // column-major [[1, 2], [3, 4]]
        float[] b = {5, 7, 6, 8}; // column-major [[5, 6], [7, 8]]
        float[] c = new float[4];
        sgemm(false, false, 2, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2);
        float[] expected = {19, 43, 22, 50};
        if (!Arrays.equals(c, expected)) {
            throw new IllegalStateException("OpenBLAS library " + library + " loaded but computes a wrong 2x2 product "
                    + Arrays.toString(c) + " (expected " + Arrays.toString(expected) + ")");
        }
    }
}
