package dev.sparkvit.bench.cli;

import dev.sparkvit.bench.BenchResults;
import dev.sparkvit.bench.Measurement;
import dev.sparkvit.bench.ProductBenchmark;
import dev.sparkvit.cli.ExitCodes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sparkvit bench product}: the training jobs' own throughput on the barrier engine, and its MFU. */
@Command(name = "product", mixinStandardHelpOptions = true,
        description = {"Run the finetune or pretrain job on local[THREADS] and report "
                + "its steady-state throughput (the job's TensorBoard Throughput of every epoch after the first) and "
                + "its model-FLOPs utilisation against the GEMM peak measured afterwards at THREADS."})
final class ProductBenchCommand implements Callable<Integer> {
    @Option(names = "--job", defaultValue = "finetune", description = "finetune or pretrain (default: ${DEFAULT-VALUE}).")
    String job;

    @Option(names = "--model", defaultValue = "vit_tiny_patch4_32",
            description = "Model preset (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--batch", required = true, description = "Global batch (training.batch_size).")
    int batch;

    @Option(names = "--threads", defaultValue = "1", description = "local[THREADS]: replicas (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--epochs", defaultValue = "4",
            description = "Epochs; the first is left out (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--dataset", required = true, description = "Dataset folder (written by ingest or bench dataset).")
    Path dataset;

    @Option(names = "--config", description = "The job's config (default: conf/JOB.yaml).")
    Path config;

    @Option(names = "--output", required = true, description = "The job's output_dir (replaced).")
    Path output;

    @Option(names = "--set", description = "A further key=value override of the job's config (repeatable).")
    List<String> sets = new ArrayList<>();

    @Option(names = "--json", description = "Also write the measurements to this JSON file (bench/report.py reads it).")
    Path json;

    @Override
    public Integer call() {
        ProductBenchmark.Job parsed = switch (job.toLowerCase(Locale.ROOT)) {
            case "finetune" -> ProductBenchmark.Job.FINETUNE;
            case "pretrain" -> ProductBenchmark.Job.PRETRAIN;
            default -> throw new IllegalArgumentException("--job must be finetune or pretrain, got '" + job + "'");
        };
        Path file = config != null ? config : Path.of("conf", parsed.command() + ".yaml");
        ProductBenchmark benchmark = new ProductBenchmark(new ProductBenchmark.Settings(parsed, model, batch, threads,
                epochs, dataset.toAbsolutePath(), file, output.toAbsolutePath(), sets));
        List<Measurement> results = benchmark.run();
        results.forEach(System.out::println);
        System.out.println("notes " + benchmark.notes());
        if (json != null) {
            BenchResults.write(json, "vit", benchmark.notes(), results);
        }
        return ExitCodes.OK;
    }
}
