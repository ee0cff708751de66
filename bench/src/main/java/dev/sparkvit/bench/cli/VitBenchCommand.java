package dev.sparkvit.bench.cli;

import dev.sparkvit.bench.BenchResults;
import dev.sparkvit.bench.Measurement;
import dev.sparkvit.bench.VitBenchSettings;
import dev.sparkvit.bench.VitBenchmark;
import dev.sparkvit.cli.ExitCodes;
import dev.sparkvit.model.vit.VitFlops;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sparkvit bench vit}: ViT training-step throughput and model-FLOPs utilisation. */
@Command(name = "vit", mixinStandardHelpOptions = true,
        description = {"Measure ViT training throughput (images/s of forward + backward + AdamW) and its model-FLOPs "
                + "utilisation against the measured GEMM peak.",
                "--mode step: one replica in this thread (--threads 1); --mode distri: DLlib's DistriOptimizer on "
                        + "local[THREADS], THREADS replicas of BATCH / THREADS images; --mode loop: a PROTOTYPE (not "
                        + "the product's path) running the distri work with one Spark job per STEPS iterations."})
final class VitBenchCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "vit_tiny_patch4_32",
            description = "Model preset (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--batch", description = "Images per step (default: 32 for 32 px presets, 8 for 224 px).")
    Integer batch;

    @Option(names = "--threads", defaultValue = "1", description = "Threads = replicas (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--steps", description = "Timed steps per sample (default: 4 for 32 px, 3 for 224 px).")
    Integer steps;

    @Option(names = "--repeats", defaultValue = "3", description = "Timed samples (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--warmup", defaultValue = "2", description = "Untimed steps first (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--classes", defaultValue = "10", description = "Classifier outputs (default: ${DEFAULT-VALUE}).")
    int classes;

    @Option(names = "--mode", defaultValue = "step",
            description = "step, distri or loop (prototype) (default: ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = "--seed", defaultValue = "42", description = "Weights and data seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", description = "Also write the measurements to this JSON file (bench/report.py reads it).")
    Path json;

    @Override
    public Integer call() {
        VitBenchSettings settings = settings();
        VitFlops flops = VitFlops.of(settings.config(), settings.head());
        System.out.printf(Locale.ROOT, "sparkvit bench vit: %s, batch %d, %d thread(s), mode %s; training FLOPs per "
                + "image %,d (3 x forward %,d)%n", settings.model(), settings.batch(), settings.threads(),
                mode, flops.training(), flops.forward());
        SparkSession spark = settings.mode() != VitBenchSettings.Mode.STEP ? startSpark(settings.threads()) : null;
        try {
            VitBenchmark benchmark = new VitBenchmark(settings);
            List<Measurement> results = benchmark.run(spark);
            results.forEach(System.out::println);
            Map<String, Object> notes = new LinkedHashMap<>(benchmark.notes());
            Object layers = notes.remove("layer_ms_per_step");
            System.out.println("notes " + notes);
            if (layers != null) {
                printLayers((Map<?, ?>) layers);
                notes.put("layer_ms_per_step", layers);
            }
            if (json != null) {
                BenchResults.write(json, "vit", notes, results);
            }
            return ExitCodes.OK;
        } finally {
            if (spark != null) {
                spark.stop();
            }
        }
    }

    /** DLlib's per-module clocks, summed by layer kind, as a table (step mode). */
    private static void printLayers(Map<?, ?> layers) {
        System.out.println("per step, by layer (DLlib module clocks, wall ms):   forward  backward");
        layers.forEach((kind, times) -> {
            Map<?, ?> t = (Map<?, ?>) times;
            System.out.printf(Locale.ROOT, "  %-24s %8.1f %9.1f%n", kind, t.get("forward_ms"), t.get("backward_ms"));
        });
    }

    VitBenchSettings settings() {
        VitBenchSettings.Mode parsed = switch (mode.toLowerCase(Locale.ROOT)) {
            case "step" -> VitBenchSettings.Mode.STEP;
            case "distri" -> VitBenchSettings.Mode.DISTRI;
            case "loop" -> VitBenchSettings.Mode.LOOP;
            default -> throw new IllegalArgumentException("--mode must be step, distri or loop, got '" + mode + "'");
        };
        boolean large = dev.sparkvit.model.vit.VitPresets.get(model).imgSize() > 64;
        return new VitBenchSettings(model, batch != null ? batch : large ? 8 : 32, threads,
                steps != null ? steps : large ? 3 : 4, repeats, warmup, classes, parsed, seed);
    }

    private static SparkSession startSpark(int threads) {
        return dev.sparkvit.engine.SparkSessions.start(new SparkConf().setAppName("sparkvit bench vit")
                .set("spark.ui.enabled", "false")
                .set("spark.ui.showConsoleProgress", "false"), "local[" + threads + "]");
    }
}
