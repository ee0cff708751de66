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
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sparkvit bench vit}: one replica's training-step throughput and model-FLOPs utilisation. */
@Command(name = "vit", mixinStandardHelpOptions = true,
        description = {"Measure one replica's ViT training throughput in this thread (images/s of forward + backward "
                + "+ AdamW on a fixed batch) and its model-FLOPs utilisation against the measured GEMM peak.",
                "The training jobs themselves, at any thread count: sparkvit bench product."})
final class VitBenchCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "vit_tiny_patch4_32",
            description = "Model preset (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--batch", description = "Images per step (default: 32 for 32 px presets, 8 for 224 px).")
    Integer batch;

    @Option(names = "--steps", description = "Timed steps per sample (default: 4 for 32 px, 3 for 224 px).")
    Integer steps;

    @Option(names = "--repeats", defaultValue = "3", description = "Timed samples (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--warmup", defaultValue = "2", description = "Untimed steps first (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--classes", defaultValue = "10", description = "Classifier outputs (default: ${DEFAULT-VALUE}).")
    int classes;

    @Option(names = "--seed", defaultValue = "42", description = "Weights and data seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", description = "Also write the measurements to this JSON file (bench/report.py reads it).")
    Path json;

    @Override
    public Integer call() {
        VitBenchSettings settings = settings();
        VitFlops flops = VitFlops.of(settings.config(), settings.head());
        System.out.printf(Locale.ROOT, "sparkvit bench vit: %s, batch %d, one thread; training FLOPs per "
                + "image %,d (3 x forward %,d)%n", settings.model(), settings.batch(), flops.training(),
                flops.forward());
        VitBenchmark benchmark = new VitBenchmark(settings);
        List<Measurement> results = benchmark.run();
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
    }

    /** DLlib's per-module clocks, summed by layer kind, as a table. */
    private static void printLayers(Map<?, ?> layers) {
        System.out.println("per step, by layer (DLlib module clocks, wall ms):   forward  backward");
        layers.forEach((kind, times) -> {
            Map<?, ?> t = (Map<?, ?>) times;
            System.out.printf(Locale.ROOT, "  %-24s %8.1f %9.1f%n", kind, t.get("forward_ms"), t.get("backward_ms"));
        });
    }

    VitBenchSettings settings() {
        boolean large = dev.sparkvit.model.vit.VitPresets.get(model).imgSize() > 64;
        return new VitBenchSettings(model, batch != null ? batch : large ? 8 : 32,
                steps != null ? steps : large ? 3 : 4, repeats, warmup, classes, seed);
    }
}
