package dev.sparkvit.bench;

import dev.sparkvit.engine.blas.MklCpuDispatch;
import dev.sparkvit.model.vit.VitFlops;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ViT training throughput of one replica in the calling thread (images/s of forward + backward + AdamW,
 * {@link VitStepBenchmark}), and the same samples as model-FLOPs utilisation: images/s x {@link VitFlops#training()}
 * per image over the {@link GemmPeak} measured afterwards in the same process at one thread. bench/python/vit_step.py
 * writes the reference side under the same names; the training jobs themselves are {@link ProductBenchmark}.
 */
public final class VitBenchmark {
    /** Measurement name of the throughput, shared with the PyTorch reference. */
    public static final String THROUGHPUT = "ViT training step (fwd+bwd+AdamW)";
    /** Measurement name of the utilisation, shared with the PyTorch reference. */
    public static final String MFU = "ViT training MFU";
    private static final double GEMM_SECONDS = 1.0;

    private final VitBenchSettings settings;
    private final Map<String, Object> notes = new LinkedHashMap<>();

    public VitBenchmark(VitBenchSettings settings) {
        this.settings = settings;
    }

    /** Runs the case: one replica in the calling thread. */
    public List<Measurement> run() {
        VitStepBenchmark step = new VitStepBenchmark(settings);
        long parameters = step.parameterCount();
        double[] rates = step.run();
        notes.put("timing", "System.nanoTime around each block of steps in one thread");
        notes.put("images_per_cpu_second_median", median(step.imagesPerCpuSecond()));
        Map<String, Object> layers = new LinkedHashMap<>();
        step.layerTimes().forEach((kind, ms) -> layers.put(kind, Map.of("forward_ms", ms[0], "backward_ms", ms[1])));
        notes.put("layer_ms_per_step", layers);
        double peak = GemmPeak.measure(1, GEMM_SECONDS);
        long flops = VitFlops.of(settings.config(), settings.head()).training();
        notes.put("gemm_peak_gflops", peak);
        notes.put("mkl_code_path", MklCpuDispatch.configure().reason());
        notes.put("gemm_peak", GemmPeak.N + "^3 float32 MKL sgemm, one single-threaded GEMM");
        notes.put("warmup_steps", settings.warmup());
        notes.put("timed_steps_per_sample", settings.steps());
        notes.put("optimizer", "sparkvit AdamW(lr=1e-3, weight_decay=0.05) on every parameter");

        Map<String, Object> params = new LinkedHashMap<>();
        params.put("model", settings.model());
        params.put("batch", settings.batch());
        params.put("image_size", settings.config().imgSize());
        params.put("classes", settings.classes());
        params.put("parameters", parameters);
        params.put("flops_per_image", flops);
        params.put("mode", "step");
        return withMfu(THROUGHPUT, 1, params, rates, flops, peak);
    }

    /**
     * The images/s samples {@code rates} as measurement {@code name}, and the same samples as {@link #MFU}: images/s x
     * {@code flops} per image over {@code peak} GFLOP/s, in percent.
     */
    static List<Measurement> withMfu(String name, int threads, Map<String, Object> params, double[] rates, long flops,
            double peak) {
        double[] mfu = new double[rates.length];
        for (int i = 0; i < rates.length; i++) {
            mfu[i] = 100.0 * rates[i] * flops / (peak * 1e9);
        }
        Map<String, Object> mfuParams = new LinkedHashMap<>(params);
        mfuParams.put("gemm_peak_gflops", Math.round(peak * 10) / 10.0);
        List<Measurement> results = new ArrayList<>();
        results.add(new Measurement(name, "sparkvit", threads, "images/s", params, rates));
        results.add(new Measurement(MFU, "sparkvit", threads, "% of GEMM peak", mfuParams, mfu));
        return results;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** What the run recorded besides the measurements (timing method, GEMM peak, layer times). */
    public Map<String, Object> notes() {
        return notes;
    }
}
