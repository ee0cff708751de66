package dev.sparkvit.cli;

import dev.sparkvit.jobs.bench.BenchResults;
import dev.sparkvit.jobs.bench.DataBenchmark;
import dev.sparkvit.jobs.bench.Measurement;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sparkvit bench data}: ingestion and SimCLR pair throughput on the embedded dataset. */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Measure ingestion and SimCLR pair throughput (per second and per core) on the embedded dataset.")
final class DataBenchCommand extends SparkCommand implements Callable<Integer> {
    @Option(names = "--images-per-class", defaultValue = "100",
            description = "Images per class of the embedded dataset, 10 classes (default: ${DEFAULT-VALUE}).")
    int imagesPerClass;

    @Option(names = "--size", defaultValue = "32",
            description = "Stored image side; inputs are generated at twice that (default: ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "--repeats", defaultValue = "3", description = "Timed runs per measurement (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--json", description = "Also write the measurements to this JSON file (bench/report.py reads it).")
    Path json;

    @Override
    public Integer call() throws IOException {
        Path work = Files.createTempDirectory("sparkvit-bench");
        SparkSession spark = startSpark("sparkvit bench data");
        try {
            System.out.println("sparkvit bench data: " + imagesPerClass * 10 + " images, stored at " + size + " px, "
                    + spark.sparkContext().defaultParallelism() + " cores (" + spark.sparkContext().master() + ")");
            List<Measurement> results = new DataBenchmark(size, imagesPerClass, repeats, work).run(spark);
            results.forEach(System.out::println);
            if (json != null) {
                BenchResults.write(json, "data", Map.of("master", spark.sparkContext().master()), results);
            }
            return ExitCodes.OK;
        } finally {
            spark.stop();
            deleteTree(work);
        }
    }

    private static void deleteTree(Path root) {
        try (var walk = Files.walk(root)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + root, e);
        }
    }
}
