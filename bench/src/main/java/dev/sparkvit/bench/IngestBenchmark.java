package dev.sparkvit.bench;

import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestResult;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.data.ingest.RawImages;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;

/**
 * Ingestion throughput on the benchmark's input files, two ways: the per-file work alone in one thread without
 * Spark (read through the Hadoop client, SHA-256, header checks, decode, resize and centre crop: {@link RawImages},
 * the code the ingest job runs per file), and the whole ingest job through Spark (listing, that work, dedupe,
 * Parquet write, manifest). Each is measured twice from the same runs: images per wall-clock second
 * ({@code clock wall}) and images per CPU-second of the whole process ({@code clock cpu}, JIT, GC and Spark's
 * threads included), which bench/python/ingest_ref.py measures alike.
 */
final class IngestBenchmark {
    /** Name of the per-file work; bench/python/ingest_ref.py writes the same. */
    static final String WORK = "ingest work per file (read, hash, decode, validate, resize)";
    /** Name of the whole job; bench/python/ingest_ref.py writes the same. */
    static final String END_TO_END = "ingest end to end (list, work, dedupe, Parquet write, manifest)";

    /**
     * Untimed pairs of runs before the alternated ones: the first ingests of a JVM compile much of Spark (about 30%
     * of the process's CPU in the second to fifth run), and the first pair also loads its classes.
     */
    static final int ALTERNATED_WARMUPS = 3;

    private final Path inputs;
    private final int images;
    private final int storedSize;
    private final int repeats;

    IngestBenchmark(Path inputs, int images, int storedSize, int repeats) {
        this.inputs = inputs;
        this.images = images;
        this.storedSize = storedSize;
        this.repeats = repeats;
    }

    /** The per-file work in this thread, no Spark: wall clock, then process CPU. */
    List<Measurement> work() {
        Configuration hadoop = new Configuration();
        RawImages reader = new RawImages(hadoop, storedSize);
        // the benchmark's own inputs: regular files in class folders, listed here (the job lists with a Spark job)
        List<RawImages.Listed> files = new ArrayList<>();
        try (java.util.stream.Stream<Path> walk = Files.walk(inputs)) {
            for (Path file : walk.filter(Files::isRegularFile).sorted().toList()) {
                files.add(new RawImages.Listed("file:" + file.toAbsolutePath(), Files.size(file)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + inputs, e);
        }
        checkCount(files.size(), "listed");
        Timing.Runs runs = Timing.runs(repeats, () -> {
            for (RawImages.Listed file : files) {
                RawImages.Read read = reader.read(file.path(), file.length());
                if (read.image() == null) {
                    throw new IllegalStateException("benchmark input " + file.path() + " was rejected: "
                            + read.reason() + " " + read.detail());
                }
            }
        });
        return measurements(WORK, 1, runs);
    }

    /**
     * The ingest job on {@code spark}, each run into a new folder under {@code scratch} (removed afterwards); the last
     * run's dataset is moved to {@code keep} unless that is null. Threads are the session's cores.
     */
    List<Measurement> endToEnd(SparkSession spark, Path scratch, Path keep) {
        int[] run = {0};
        clear(scratch);
        Timing.Runs runs = Timing.runs(repeats, () -> {
            ingestInto(spark, scratch.resolve("ingest-" + run[0]++));
        });
        keepThenClear(scratch.resolve("ingest-" + (run[0] - 1)), keep, scratch);
        return measurements(END_TO_END, spark.sparkContext().defaultParallelism(), runs);
    }

    /**
     * The ingest job on these inputs and on {@code small}'s in turn, {@link #repeats} timed pairs after
     * {@link #ALTERNATED_WARMUPS} untimed ones ({@link Timing#alternated}); the last run on {@code small} is moved to
     * {@code keep} unless that is null. Two sizes measured alike give Spark's cost per run apart from its cost per
     * file (bench/report.py derives the cost of each additional file from them).
     */
    List<Measurement> endToEndAlternating(SparkSession spark, IngestBenchmark small, Path scratch, Path keep) {
        clear(scratch);
        int[] run = {0};
        Path[] lastSmall = {null};
        Timing.Runs[] runs = Timing.alternated(repeats, ALTERNATED_WARMUPS,
                () -> ingestInto(spark, scratch.resolve("ingest-" + run[0]++)),
                () -> {
                    lastSmall[0] = scratch.resolve("ingest-" + run[0]++);
                    small.ingestInto(spark, lastSmall[0]);
                });
        keepThenClear(lastSmall[0], keep, scratch);
        int threads = spark.sparkContext().defaultParallelism();
        List<Measurement> all = new ArrayList<>(measurements(END_TO_END, threads, runs[0]));
        all.addAll(small.measurements(END_TO_END, threads, runs[1]));
        return all;
    }

    /** Removes what a stopped run left behind in {@code scratch}. */
    private static void clear(Path scratch) {
        try {
            BenchInputs.deleteTree(scratch);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clear " + scratch, e);
        }
    }

    /** Moves the dataset at {@code last} to {@code keep} (unless null), then removes {@code scratch}. */
    private static void keepThenClear(Path last, Path keep, Path scratch) {
        try {
            if (keep != null) {
                BenchInputs.deleteTree(keep);
                Files.move(last, keep);
            }
            BenchInputs.deleteTree(scratch);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot keep the benchmark dataset at " + keep, e);
        }
    }

    private void ingestInto(SparkSession spark, Path out) {
        IngestResult result = new IngestJob(IngestSettings.defaults(inputs.toString(), out.toString())
                .withStoredSize(storedSize)).execute(spark);
        checkCount(result.stored(), "stored");
    }

    private List<Measurement> measurements(String name, int threads, Timing.Runs runs) {
        return List.of(Measurement.fromSeconds(name, "sparkvit", threads, "images/s", params("wall"), images,
                runs.wall()), Measurement.fromSeconds(name, "sparkvit", threads, "images/CPU-s", params("cpu"),
                images, runs.cpu()));
    }

    /** One untimed ingest of the inputs at {@code size} into {@code out} (stored images for the pair benchmark). */
    static void ingestOnce(SparkSession spark, Path inputs, int size, Path out) {
        try {
            BenchInputs.deleteTree(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot replace " + out, e);
        }
        new IngestJob(IngestSettings.defaults(inputs.toString(), out.toString()).withStoredSize(size)).execute(spark);
    }

    private Map<String, Object> params(String clock) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("input_files", images); // not "images": bench/report.py pairs measurements regardless of that key
        p.put("stored_size", storedSize);
        p.put("clock", clock);
        return p;
    }

    private void checkCount(long n, String what) {
        if (n != images) {
            throw new IllegalStateException("benchmark ingest " + what + " " + n + " of " + images + " files");
        }
    }
}
