package dev.sparkvit.bench;

import dev.sparkvit.engine.Blas;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The GEMM peak the ViT benchmark's model-FLOPs utilisation is measured against: float32 GEMMs of
 * {@value #N} x {@value #N} matrices through {@link Blas#gemm} (single-threaded MKL), run by {@code threads} Java
 * threads at once, as the training jobs run one single-threaded replica per core. Returns GFLOP/s summed over the
 * threads.
 */
public final class GemmPeak {
    /** Matrix side: large enough for MKL's best kernel, small enough to time in a second. */
    public static final int N = 1024;

    private GemmPeak() {
    }

    public static double measure(int threads, double seconds) {
        if (threads < 1 || !(seconds > 0)) {
            throw new IllegalArgumentException("GEMM peak needs threads >= 1 and a positive duration");
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<double[]>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                results.add(pool.submit(() -> run(seconds)));
            }
            double gflops = 0;
            for (Future<double[]> result : results) {
                double[] callsAndSeconds = result.get();
                gflops += 2.0 * N * N * N * callsAndSeconds[0] / callsAndSeconds[1] / 1e9;
            }
            return gflops;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while measuring the GEMM peak", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("GEMM peak measurement failed", e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private static double[] run(double seconds) {
        float[] a = new float[N * N];
        float[] b = new float[N * N];
        float[] c = new float[N * N];
        for (int i = 0; i < a.length; i++) {
            a[i] = (i % 7) * 0.25f;
            b[i] = (i % 5) * 0.5f;
        }
        for (int i = 0; i < 3; i++) {
            Blas.gemm(false, false, N, N, N, 1f, a, 0, N, b, 0, N, 0f, c, 0, N);
        }
        long calls = 0;
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        long now;
        do {
            Blas.gemm(false, false, N, N, N, 1f, a, 0, N, b, 0, N, 0f, c, 0, N);
            calls++;
            now = System.nanoTime();
        } while (now < end);
        return new double[] {calls, (now - start) / 1e9};
    }
}
