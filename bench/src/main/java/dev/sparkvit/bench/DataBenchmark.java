package dev.sparkvit.bench;

import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.engine.SparkSessions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * The data benchmark: ingestion of photo-sized JPEG and PNG files ({@link BenchInputs}) and SimCLR pair generation
 * from the stored images, per core, in the form the Python references (bench/python/ingest_ref.py, augment_ref.py)
 * measure the same work on the same files:
 * <ul>
 * <li>ingest work per file in one thread, no Spark;</li>
 * <li>the whole ingest job through Spark at each of {@code localCores} (local[1] shows Spark's overhead on one core),
 * on all files and on the first {@code smallPerClass} of each class, in turn (two sizes separate Spark's fixed cost
 * per run from its cost per file; see {@link IngestBenchmark#endToEndAlternating}); the last run on the smaller set
 * (the full set when there is none) at the first core count leaves the dataset stored at the ingest size under
 * {@code work};</li>
 * <li>SimCLR pairs in one thread at each of {@code pairSizes} (the first is the ingest size, the others are ingested
 * once, untimed), and through Spark at the first size on each core count.</li>
 * </ul>
 * Medians of {@code repeats} timed runs after one warm-up run; wall clock, so compare numbers of one run only.
 * {@code work} keeps the inputs ({@code inputs/}, reused by later runs) and the datasets ({@code dataset-<size>/})
 * for the references.
 */
public final class DataBenchmark {
    /** Untimed pairs of end-to-end ingests (full set, smaller set) before the timed ones. */
    public static final int INGEST_WARMUP_PAIRS = IngestBenchmark.ALTERNATED_WARMUPS;

    private final int imagesPerClass;
    private final int smallPerClass;
    private final List<Integer> pairSizes;
    private final List<Integer> localCores;
    private final int repeats;
    private final Path work;

    /**
     * @param imagesPerClass input files per class (10 classes)
     * @param smallPerClass files per class of the second, smaller end-to-end set, which the pair benchmark also
     *     stores; 0 for none
     * @param pairSizes stored sizes of the pair benchmark; the first is also the ingest's stored size
     * @param localCores Spark local core counts the Spark measurements run at, in order
     * @param repeats timed runs per measurement
     * @param work folder for inputs, datasets and scratch output
     */
    public DataBenchmark(int imagesPerClass, int smallPerClass, List<Integer> pairSizes, List<Integer> localCores,
            int repeats, Path work) {
        if (imagesPerClass < 1 || repeats < 1) {
            throw new IllegalArgumentException("images per class and repeats must be at least 1, got "
                    + imagesPerClass + " and " + repeats);
        }
        if (smallPerClass < 0 || smallPerClass >= imagesPerClass) {
            throw new IllegalArgumentException("the smaller set takes 0 to " + (imagesPerClass - 1)
                    + " files per class, got " + smallPerClass);
        }
        if (pairSizes.isEmpty() || pairSizes.stream().anyMatch(s -> s < 8 || s > 1024)) {
            throw new IllegalArgumentException("pair sizes must be 8 to 1024 px (at least one), got " + pairSizes);
        }
        if (localCores.stream().anyMatch(c -> c < 1)) {
            throw new IllegalArgumentException("local core counts must be at least 1, got " + localCores);
        }
        this.imagesPerClass = imagesPerClass;
        this.smallPerClass = smallPerClass;
        this.pairSizes = List.copyOf(pairSizes);
        this.localCores = List.copyOf(localCores);
        this.repeats = repeats;
        this.work = work;
    }

    /** The dataset the benchmark stores at {@code size} under {@code work}. */
    public static Path dataset(Path work, int size) {
        return work.resolve("dataset-" + size);
    }

    /**
     * Runs everything, starting one local Spark session per core count with {@code sessions} and stopping it after
     * use; {@code progress} sees each measurement as it is taken.
     */
    public List<Measurement> run(IntFunction<SparkSession> sessions, Consumer<Measurement> progress) {
        List<Measurement> results = new ArrayList<>();
        Consumer<Measurement> add = m -> {
            results.add(m);
            progress.accept(m);
        };
        BenchInputs inputSet = new BenchInputs(imagesPerClass);
        Path inputs = inputSet.writeOrReuse(work);
        Path small = smallPerClass > 0 ? inputSet.subset(work, smallPerClass) : null;
        Path pairInputs = small != null ? small : inputs;
        removeOtherDatasets(work, pairSizes);
        int ingestSize = pairSizes.get(0);
        IngestBenchmark ingest = new IngestBenchmark(inputs, inputSet.count(), ingestSize, repeats);
        IngestBenchmark smallIngest = small == null ? null
                : new IngestBenchmark(small, smallPerClass * SyntheticImageFolder.CLASSES.size(), ingestSize, repeats);
        AugmentBenchmark augment = new AugmentBenchmark(repeats);
        ingest.work().forEach(add);

        Map<Integer, AugmentBenchmark.StoredSet> stored = new LinkedHashMap<>();
        for (int i = 0; i < localCores.size(); i++) {
            SparkSession spark = sessions.apply(localCores.get(i));
            try {
                Path keep = i == 0 ? dataset(work, ingestSize) : null;
                if (smallIngest != null) {
                    ingest.endToEndAlternating(spark, smallIngest, work.resolve("scratch"), keep).forEach(add);
                } else {
                    ingest.endToEnd(spark, work.resolve("scratch"), keep).forEach(add);
                }
                if (i == 0) {
                    for (int size : pairSizes.subList(1, pairSizes.size())) {
                        IngestBenchmark.ingestOnce(spark, pairInputs, size, dataset(work, size));
                    }
                    for (int size : pairSizes) {
                        stored.put(size, AugmentBenchmark.load(spark, dataset(work, size).toString()));
                    }
                }
                add.accept(augment.sparkPairs(spark, dataset(work, ingestSize).toString()));
            } finally {
                spark.stop();
            }
        }
        if (stored.isEmpty()) { // no Spark measurements asked for: the pair benchmark still needs stored images
            SparkSession spark = sessions.apply(1);
            try {
                for (int size : pairSizes) {
                    IngestBenchmark.ingestOnce(spark, pairInputs, size, dataset(work, size));
                    stored.put(size, AugmentBenchmark.load(spark, dataset(work, size).toString()));
                }
            } finally {
                spark.stop();
            }
        }
        for (AugmentBenchmark.StoredSet set : stored.values()) {
            add.accept(augment.pairs(set));
        }
        return results;
    }

    /**
     * Datasets an earlier run left at sizes this run does not measure: the references take every
     * {@code dataset-<size>} folder under {@code work}, so a stale one would add a measurement of its own.
     */
    static void removeOtherDatasets(Path work, List<Integer> pairSizes) {
        try (Stream<Path> children = Files.list(work)) {
            for (Path dir : children.toList()) {
                String name = dir.getFileName().toString();
                if (name.matches("dataset-\\d+") && !pairSizes.contains(Integer.parseInt(name.substring(8)))) {
                    BenchInputs.deleteTree(dir);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot tidy " + work, e);
        }
    }

    /** A local session of {@code cores} cores set up as the CLI's commands set theirs up. */
    public static SparkSession localSession(int cores) {
        return SparkSessions.start(new SparkConf().setAppName("sparkvit bench data")
                .set("spark.ui.showConsoleProgress", "false"), "local[" + cores + "]");
    }
}
