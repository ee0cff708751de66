package dev.sparkvit.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Ingest at scale with a small driver: {@link ScaleInputs} writes N tiny PNGs in nested class folders, then the
 * product's {@code sparkvit ingest} runs in its own JVM (local master: that JVM is the driver and the executors)
 * with {@code -Xmx} set to the driver heap, then once more with {@code --incremental}, which must find every file
 * already present. Each run reports its wall time, files/s and the JVM's peak used and peak live heap from its GC
 * log ({@link GcLog}); a run that does not account for every file fails the benchmark.
 */
public final class ScaleBenchmark {
    /** Measurement name of the first ingest's rate. */
    public static final String INGEST = "ingest, small driver";
    /** Measurement name of the incremental re-run's rate (nothing new). */
    public static final String REINGEST = "ingest --incremental, nothing new";
    private static final Pattern SUMMARY = Pattern.compile(
            "sparkvit ingest: (\\d+) files: (\\d+) stored, (\\d+) duplicates, (\\d+) quarantined .*, (\\d+) already "
                    + "present");

    /**
     * One benchmark.
     *
     * @param sparkvit the product's launcher (submit/sparkvit)
     * @param work folder for the files (kept for later runs), the datasets and the logs
     */
    public record Settings(Path sparkvit, Path work, long files, int classes, int perFolder, String driverMemory,
            String master) {
    }

    /** One ingest run: what it printed, wall time and heap. */
    public record Run(long listed, long stored, long present, double seconds, GcLog heap) {
    }

    private final Settings settings;
    private final Map<String, Object> notes = new LinkedHashMap<>();

    public ScaleBenchmark(Settings settings) {
        this.settings = settings;
    }

    public Map<String, Object> notes() {
        return notes;
    }

    public List<Measurement> run() {
        Path raw = settings.work().resolve("files-" + settings.files()).resolve("raw");
        long started = System.nanoTime();
        long files = ScaleInputs.generate(raw, settings.files(), settings.classes(), settings.perFolder());
        notes.put("generate_seconds", (System.nanoTime() - started) / 1e9);
        Path dataset = settings.work().resolve("files-" + settings.files()).resolve("dataset");
        deleteTree(dataset);
        Run first = ingest(raw, dataset, false, "ingest");
        if (first.listed() != files || first.stored() != files) {
            throw new IllegalStateException("ingest of " + files + " files listed " + first.listed() + " and stored "
                    + first.stored());
        }
        Run again = ingest(raw, dataset, true, "reingest");
        if (again.listed() != files || again.present() != files || again.stored() != 0) {
            throw new IllegalStateException("the incremental re-run of " + files + " files listed " + again.listed()
                    + ", found " + again.present() + " present and stored " + again.stored());
        }
        notes.put("files", files);
        notes.put("classes", settings.classes());
        notes.put("files_per_folder", settings.perFolder());
        notes.put("driver_memory", settings.driverMemory());
        notes.put("master", settings.master());
        List<Measurement> out = new ArrayList<>();
        out.add(measurement(INGEST, first, files));
        out.add(measurement(REINGEST, again, files));
        return out;
    }

    private Measurement measurement(String name, Run run, long files) {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("files", files);
        params.put("seconds", round(run.seconds()));
        params.put("driver_memory", settings.driverMemory());
        params.put("peak_used_heap_mb", round(run.heap().peakUsedMb()));
        params.put("peak_live_heap_mb", round(run.heap().peakLiveMb()));
        params.put("gc_collections", run.heap().collections());
        return Measurement.fromSeconds(name, "sparkvit", 0, "files/s", params, files, new double[] {run.seconds()});
    }

    private Run ingest(Path raw, Path dataset, boolean incremental, String label) {
        Path log = settings.work().resolve(label + "-" + settings.files() + ".log");
        Path gc = settings.work().resolve(label + "-" + settings.files() + ".gc.log");
        List<String> command = new ArrayList<>(List.of(settings.sparkvit().toString(), "ingest", "--input",
                raw.toString(), "--output", dataset.toString(), "--master", settings.master()));
        if (incremental) {
            command.add("--incremental");
        }
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        String opts = System.getenv().getOrDefault("SPARKVIT_JAVA_OPTS", "");
        builder.environment().put("SPARKVIT_JAVA_OPTS", (opts + " -Xmx" + settings.driverMemory() + " -Xlog:gc:file="
                + gc).trim());
        long started = System.nanoTime();
        int exit;
        try {
            exit = builder.start().waitFor();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + settings.sparkvit(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while ingesting", e);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        String output;
        try {
            output = Files.readString(log);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + log, e);
        }
        Matcher m = SUMMARY.matcher(output);
        if (exit != 0 || !m.find()) {
            throw new IllegalStateException(label + " of " + raw + " ended with exit code " + exit + " (log: " + log
                    + ")");
        }
        return new Run(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(5)), seconds,
                GcLog.read(gc));
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (var paths = Files.walk(root)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        }
    }
}
