package dev.sparkvit.engine.blas;

import com.intel.analytics.bigdl.mkl.MKL;

/**
 * Keeps BigDL's MKL calls on MKL once OpenBLAS shares the process. libjmkl.so calls cblas_sgemm and eleven other
 * cblas functions through lazily bound PLT slots, and netlib's JNI opens the system BLAS with RTLD_GLOBAL: a slot
 * used for the first time after that binds to OpenBLAS's function of the same name (the global scope is searched
 * first), so MKL.vsgemm would silently run OpenBLAS. Calling each of those MKL entry points once before OpenBLAS
 * loads binds the slots to MKL for the life of the process. The twelve are every MKL native whose symbol libopenblas
 * also exports (checked against Debian's 0.3.21 with objdump -R and nm -D; the only others, xerbla_ and
 * cblas_xerbla, are error reporters).
 */
final class MklSymbolBinding {
    private static boolean bound;

    private MklSymbolBinding() {
    }

    static synchronized void bindBlasEntryPoints() {
        if (bound) {
            return;
        }
        MklSgemm.requireLoaded();
        float[] sa = {1f};
        float[] sx = {1f};
        float[] sy = {0f};
        double[] da = {1d};
        double[] dx = {1d};
        double[] dy = {0d};
        MKL.vsgemm('n', 'n', 1, 1, 1, 1f, sa, 0, 1, sx, 0, 1, 0f, sy, 0, 1);
        MKL.vdgemm('n', 'n', 1, 1, 1, 1d, da, 0, 1, dx, 0, 1, 0d, dy, 0, 1);
        MKL.vsgemv('n', 1, 1, 1f, sa, 0, 1, sx, 0, 1, 0f, sy, 0, 1);
        MKL.vdgemv('n', 1, 1, 1d, da, 0, 1, dx, 0, 1, 0d, dy, 0, 1);
        MKL.vsaxpy(1, 1f, sx, 0, 1, sy, 0, 1);
        MKL.vdaxpy(1, 1d, dx, 0, 1, dy, 0, 1);
        MKL.vsdot(1, sx, 0, 1, sy, 0, 1);
        MKL.vddot(1, dx, 0, 1, dy, 0, 1);
        MKL.vsger(1, 1, 1f, sx, 0, 1, sy, 0, 1, sa, 0, 1);
        MKL.vdger(1, 1, 1d, dx, 0, 1, dy, 0, 1, da, 0, 1);
        MKL.vsscal(1, 1f, sx, 0, 1);
        MKL.vdscal(1, 1d, dx, 0, 1);
        bound = true;
    }
}
