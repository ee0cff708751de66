package dev.sparkvit.bench.cli;

import dev.sparkvit.bench.BenchResults;
import dev.sparkvit.bench.Measurement;
import dev.sparkvit.bench.ScaleBenchmark;
import dev.sparkvit.cli.ExitCodes;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sparkvit bench scale}: ingest of many tiny files with a small driver heap ({@link ScaleBenchmark}). */
@Command(name = "scale", mixinStandardHelpOptions = true,
        description = {"Generate FILES tiny PNGs in nested class folders (kept under WORK for later runs), ingest "
                + "them with the product's `sparkvit ingest` in a JVM of DRIVER_MEMORY heap, then again with "
                + "--incremental; report wall time, files/s and that JVM's peak used and live heap (GC log)."})
final class ScaleBenchCommand implements Callable<Integer> {
    @Option(names = "--files", defaultValue = "100000", description = "Files to ingest (default: ${DEFAULT-VALUE}).")
    long files;

    @Option(names = "--classes", defaultValue = "100", description = "Class folders (default: ${DEFAULT-VALUE}).")
    int classes;

    @Option(names = "--files-per-folder", defaultValue = "500",
            description = "Files in each folder under a class (default: ${DEFAULT-VALUE}).")
    int perFolder;

    @Option(names = "--driver-memory", defaultValue = "512m",
            description = "Heap of the ingest's JVM, -Xmx (default: ${DEFAULT-VALUE}).")
    String driverMemory;

    @Option(names = "--master", defaultValue = "local[2]", description = "Spark master (default: ${DEFAULT-VALUE}).")
    String master;

    @Option(names = "--work", required = true, description = "Folder for the files, datasets and logs.")
    Path work;

    @Option(names = "--sparkvit", defaultValue = "submit/sparkvit",
            description = "The product's launcher (default: ${DEFAULT-VALUE}).")
    Path sparkvit;

    @Option(names = "--json", description = "Also write the measurements to this JSON file.")
    Path json;

    @Override
    public Integer call() {
        if (files < 1 || classes < 1 || perFolder < 1) {
            throw new IllegalArgumentException("--files, --classes and --files-per-folder must be at least 1");
        }
        ScaleBenchmark benchmark = new ScaleBenchmark(new ScaleBenchmark.Settings(sparkvit.toAbsolutePath(),
                work.toAbsolutePath(), files, classes, perFolder, driverMemory, master));
        List<Measurement> results = benchmark.run();
        results.forEach(System.out::println);
        System.out.println("notes " + benchmark.notes());
        if (json != null) {
            BenchResults.write(json, "scale", benchmark.notes(), results);
        }
        return ExitCodes.OK;
    }
}
