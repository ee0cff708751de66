package dev.sparkvit.bench;

import dev.sparkvit.engine.blas.Sgemm;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Square single-precision GEMM throughput, {@code C = A B} with n x n matrices, in GFLOP/s ({@code 2 n^3} per
 * product). Each sample times enough back-to-back products to last about {@link #SAMPLE_SECONDS}, after one untimed
 * sample of warm-up; the thread count is whatever the backends were set up with, and is only recorded here.
 */
public final class GemmBenchmark {
    /** Roughly how long one timed sample runs: long enough for the clock, short enough for a two-minute run. */
    static final double SAMPLE_SECONDS = 0.2;

    private final List<Integer> sizes;
    private final int repeats;
    private final int threads;

    public GemmBenchmark(List<Integer> sizes, int repeats, int threads) {
        if (sizes.isEmpty() || sizes.stream().anyMatch(n -> n < 1) || repeats < 1 || threads < 1) {
            throw new IllegalArgumentException("gemm benchmark needs sizes >= 1, repeats >= 1 and threads >= 1, got "
                    + "sizes " + sizes + ", repeats " + repeats + ", threads " + threads);
        }
        this.sizes = List.copyOf(sizes);
        this.repeats = repeats;
        this.threads = threads;
    }

    public List<Measurement> run(List<Sgemm> backends) {
        List<Measurement> results = new ArrayList<>();
        for (int n : sizes) {
            float[] a = random(n * n, 1);
            float[] b = random(n * n, 2);
            float[] c = new float[n * n];
            double flops = 2.0 * n * n * n;
            for (Sgemm backend : backends) {
                Runnable product = () -> backend.sgemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
                int calls = callsPerSample(product);
                timed(product, calls); // warm-up: JIT, the backend's buffers and threads
                double[] seconds = new double[repeats];
                for (int r = 0; r < repeats; r++) {
                    seconds[r] = timed(product, calls);
                }
                results.add(Measurement.fromSeconds("sgemm", backend.name(), threads, "GFLOP/s", Map.of("n", n),
                        calls * flops / 1e9, seconds));
            }
        }
        return results;
    }

    private static int callsPerSample(Runnable product) {
        double once = timed(product, 1);
        return (int) Math.max(1, Math.min(1_000_000, Math.ceil(SAMPLE_SECONDS / Math.max(once, 1e-9))));
    }

    private static double timed(Runnable product, int calls) {
        long start = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            product.run();
        }
        return (System.nanoTime() - start) / 1e9;
    }

    private static float[] random(int length, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[length];
        for (int i = 0; i < length; i++) {
            x[i] = (float) (random.nextDouble() - 0.5);
        }
        return x;
    }
}
