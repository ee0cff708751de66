package dev.sparkvit.bench;

import dev.sparkvit.engine.blas.MklCpuDispatch;
import dev.sparkvit.model.vit.VitFlops;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/**
 * ViT training throughput (images/s of forward + backward + AdamW) of one case, and the same samples as model-FLOPs
 * utilisation: images/s x {@link VitFlops#training()} per image over the {@link GemmPeak} measured afterwards in the
 * same process at the same thread count. bench/python/vit_step.py writes the reference side under the same names.
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

    /** Runs the case; {@code spark} is needed (and used) only in distri mode. */
    public List<Measurement> run(SparkSession spark) {
        double[] rates;
        long parameters;
        if (settings.mode() == VitBenchSettings.Mode.STEP) {
            VitStepBenchmark step = new VitStepBenchmark(settings);
            parameters = step.parameterCount();
            rates = step.run();
            notes.put("timing", "System.nanoTime around each block of steps in one thread");
            notes.put("images_per_cpu_second_median", median(step.imagesPerCpuSecond()));
            Map<String, Object> layers = new LinkedHashMap<>();
            step.layerTimes().forEach((kind, ms) -> layers.put(kind, Map.of("forward_ms", ms[0], "backward_ms", ms[1])));
            notes.put("layer_ms_per_step", layers);
        } else if (settings.mode() == VitBenchSettings.Mode.LOOP) {
            if (spark == null) {
                throw new IllegalArgumentException("--mode loop needs a Spark session");
            }
            IterationsPerJobPrototype loop = new IterationsPerJobPrototype(settings);
            rates = loop.run(spark);
            parameters = loop.parameterCount();
            notes.put("timing", "PROTOTYPE: driver wall time of one Spark job per block of " + settings.steps()
                    + " iterations on " + spark.sparkContext().master());
        } else {
            if (spark == null) {
                throw new IllegalArgumentException("--mode distri needs a Spark session");
            }
            VitDistriBenchmark distri = new VitDistriBenchmark(settings);
            rates = distri.run(spark);
            parameters = distri.parameterCount();
            notes.put("timing", "DLlib's per-iteration Throughput (TrainSummary) of DistriOptimizer on "
                    + spark.sparkContext().master());
            notes.put("optimize_startup_seconds", distri.startupSeconds());
        }
        double peak = GemmPeak.measure(settings.threads(), GEMM_SECONDS);
        long flops = VitFlops.of(settings.config(), settings.head()).training();
        double[] mfu = new double[rates.length];
        for (int i = 0; i < rates.length; i++) {
            mfu[i] = 100.0 * rates[i] * flops / (peak * 1e9);
        }
        notes.put("gemm_peak_gflops", peak);
        notes.put("mkl_code_path", MklCpuDispatch.configure().reason());
        notes.put("gemm_peak", GemmPeak.N + "^3 float32 MKL sgemm, " + settings.threads()
                + " single-threaded GEMMs at once");
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
        params.put("mode", settings.mode().name().toLowerCase(java.util.Locale.ROOT));
        Map<String, Object> mfuParams = new LinkedHashMap<>(params);
        mfuParams.put("gemm_peak_gflops", Math.round(peak * 10) / 10.0);
        List<Measurement> results = new ArrayList<>();
        results.add(new Measurement(THROUGHPUT, "sparkvit", settings.threads(), "images/s", params, rates));
        results.add(new Measurement(MFU, "sparkvit", settings.threads(), "% of GEMM peak", mfuParams, mfu));
        return results;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** What the run recorded besides the measurements (timing method, GEMM peak, start-up time). */
    public Map<String, Object> notes() {
        return notes;
    }
}
