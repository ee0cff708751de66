package dev.sparkvit.engine.blas;

import com.intel.analytics.bigdl.mkl.MKL;

/** GEMM through the MKL natives bundled with BigDL's core jar (MKL 2019, statically linked into libjmkl.so). */
public final class MklSgemm implements Sgemm {
    public static final MklSgemm INSTANCE = new MklSgemm();

    private MklSgemm() {
    }

    /** Fails with a clear message when the MKL natives did not load (only x86-64 Linux is supported). */
    public static void requireLoaded() {
        MklCpuDispatch.configure();
        if (!MKL.isMKLLoaded()) {
            throw new IllegalStateException("BigDL's MKL natives did not load: sparkvit needs an x86-64 Linux JVM with "
                    + "com.intel.analytics.bigdl.core.dist:all on the classpath (see docs/ENGINE.md)");
        }
    }

    /** MKL's own thread count for its calls from this JVM (BigDL sets 1 at load, from bigdl.mklNumThreads). */
    public static void setThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("MKL threads must be at least 1, got " + threads);
        }
        requireLoaded();
        MKL.setNumThreads(threads);
    }

    @Override
    public String name() {
        return "mkl";
    }

    @Override
    public void sgemm(boolean transposeA, boolean transposeB, int m, int n, int k, float alpha, float[] a,
            int aOffset, int lda, float[] b, int bOffset, int ldb, float beta, float[] c, int cOffset, int ldc) {
        MKL.vsgemm(transposeA ? 't' : 'n', transposeB ? 't' : 'n', m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb,
                beta, c, cOffset, ldc);
    }
}
