package dev.sparkvit.bench.cli;

import dev.sparkvit.bench.BenchResults;
import dev.sparkvit.bench.DataBenchmark;
import dev.sparkvit.bench.Measurement;
import dev.sparkvit.cli.ExitCodes;
import dev.sparkvit.data.image.Decoders;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code sparkvit bench data}: ingestion and SimCLR pair throughput per core, on files the Python references
 * (bench/python/ingest_ref.py, augment_ref.py) read too.
 */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = {"Measure ingestion (JPEG and PNG files of 240-400 px: read, hash, decode, validate, resize, "
                + "and the whole job with the Parquet write) and SimCLR pair generation from stored images, per core.",
                "Keep the files with --work DIR so bench/python/ingest_ref.py and augment_ref.py measure the same "
                        + "work on them."})
final class DataBenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--images-per-class", defaultValue = "200",
            description = "Input files per class, 10 classes (default: ${DEFAULT-VALUE}).")
    int imagesPerClass;

    @Option(names = "--small-images-per-class", defaultValue = "50",
            description = "The whole ingest job also runs on the first N files of each class (DIR/inputs-<10N>, "
                    + "hard links), which the pair benchmark stores: two sizes separate Spark's fixed cost per run "
                    + "from its cost per file; 0: not (default: ${DEFAULT-VALUE}).")
    int smallImagesPerClass;

    @Option(names = "--sizes", split = ",", defaultValue = "32,96",
            description = "Stored sizes of the pair benchmark, comma-separated; the first is also the ingest's "
                    + "stored size (default: ${DEFAULT-VALUE}).")
    List<Integer> sizes;

    @Option(names = "--local-cores", split = ",", defaultValue = "1,2",
            description = "Spark local[N] core counts of the Spark measurements, comma-separated "
                    + "(default: ${DEFAULT-VALUE}).")
    List<Integer> localCores;

    @Option(names = "--repeats", defaultValue = "3",
            description = "Timed runs per measurement, after one warm-up run (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--work", description = "Keep inputs and datasets in this folder (reused by later runs, read by "
            + "the Python references); default: a temporary folder, removed at the end.")
    Path work;

    @Option(names = "--json", description = "Also write the measurements to this JSON file (bench/report.py reads it).")
    Path json;

    @Override
    public Integer call() throws IOException {
        if (imagesPerClass < 1 || repeats < 1) {
            throw new ParameterException(spec.commandLine(), "--images-per-class and --repeats must be at least 1");
        }
        if (smallImagesPerClass < 0 || smallImagesPerClass >= imagesPerClass) {
            throw new ParameterException(spec.commandLine(), "--small-images-per-class must be 0 to "
                    + (imagesPerClass - 1) + " (below --images-per-class), got " + smallImagesPerClass);
        }
        if (sizes.isEmpty() || sizes.stream().anyMatch(s -> s < 8 || s > 1024)) {
            throw new ParameterException(spec.commandLine(), "--sizes must list sides of 8 to 1024 px, got " + sizes);
        }
        if (localCores.stream().anyMatch(c -> c < 1 || c > 256)) {
            throw new ParameterException(spec.commandLine(), "--local-cores must list counts of 1 to 256, got "
                    + localCores);
        }
        boolean temporary = work == null;
        Path dir = temporary ? Files.createTempDirectory("sparkvit-bench") : Files.createDirectories(work);
        try {
            System.out.println("sparkvit bench data: " + imagesPerClass * 10 + " JPEG/PNG files of 240-400 px"
                    + (smallImagesPerClass > 0 ? " (and " + smallImagesPerClass * 10 + " of them end to end)" : "")
                    + ", stored at " + sizes.get(0) + " px; pairs at " + sizes.stream().map(s -> s + " px")
                    .collect(Collectors.joining(", ")) + "; Spark at " + localCores.stream()
                    .map(c -> "local[" + c + "]").collect(Collectors.joining(", ")) + "; median of " + repeats
                    + " runs after a warm-up (end-to-end ingests: the two sizes in turn, after "
                    + DataBenchmark.INGEST_WARMUP_PAIRS + " warm-up pairs)");
            List<Measurement> results = new DataBenchmark(imagesPerClass, smallImagesPerClass, sizes, localCores, repeats, dir)
                    .run(DataBenchmark::localSession, System.out::println);
            if (json != null) {
                Map<String, Object> notes = new LinkedHashMap<>();
                notes.put("inputs", imagesPerClass * 10 + " files, JPEG q90 and PNG, 240-400 px (BenchInputs)");
                notes.put("decoders", Decoders.configured().describe());
                notes.put("spark", "end-to-end and Spark pair measurements run at local[threads]");
                notes.put("local_cores", new ArrayList<>(localCores));
                notes.put("available_processors", Runtime.getRuntime().availableProcessors());
                BenchResults.write(json, "data", notes, results);
            }
            if (!temporary) {
                System.out.println("inputs and datasets kept under " + dir);
            }
            return ExitCodes.OK;
        } finally {
            if (temporary) {
                deleteTree(dir);
            }
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
