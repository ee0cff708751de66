package dev.sparkvit.bench;

import dev.sparkvit.data.augment.Augmentations;
import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.image.RgbImage;
import dev.sparkvit.data.ingest.Manifest;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.data.pairs.PairGenerator;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * SimCLR pair throughput on the stored images of one dataset: both normalised views of every image
 * ({@link Augmentations#simclr} with the dataset's mean and std, seed 42), in one thread on images held in memory,
 * and through Spark to DLlib samples. Pass p uses epoch p, so every pass draws new views.
 */
final class AugmentBenchmark {
    /** Name of the one-thread measurement; bench/python/augment_ref.py writes the same. */
    static final String PAIRS = "SimCLR pairs (two normalised views per stored image)";
    /** Name of the Spark measurement (no reference). */
    static final String SPARK_PAIRS = "SimCLR pairs through Spark (to DLlib samples)";
    private static final long SEED = 42;

    /** The stored images of a dataset, in memory, with its size and normalisation. */
    record StoredSet(int size, List<String> ids, List<RgbImage> images, Normalize normalize) {
    }

    private final int repeats;

    AugmentBenchmark(int repeats) {
        this.repeats = repeats;
    }

    /**
     * Times a timed run goes over the images: about as many pixels per run at every size (4 passes at 32 px, 1 from
     * 64 px up). bench/python/augment_ref.py uses the same rule.
     */
    static int passes(int size) {
        return Math.max(1, (int) Math.round(4.0 * 32 * 32 / ((double) size * size)));
    }

    static StoredSet load(SparkSession spark, String dataset) {
        Manifest manifest = StoredImages.manifest(spark, dataset);
        List<String> ids = new ArrayList<>();
        List<RgbImage> images = new ArrayList<>();
        for (Row row : StoredImages.read(spark, dataset, null).orderBy("id").collectAsList()) {
            ids.add(row.getString(row.fieldIndex("id")));
            images.add(StoredImages.image(row));
        }
        return new StoredSet(manifest.storedSize(), ids, images, StoredImages.normalization(manifest));
    }

    /** Both views of every image, {@code passes} times, in this thread. */
    Measurement pairs(StoredSet set) {
        PairGenerator generator = new PairGenerator(Augmentations.simclr(set.size(), set.normalize()), SEED);
        int passes = passes(set.size());
        double[] seconds = Timing.seconds(repeats, () -> {
            for (int pass = 0; pass < passes; pass++) {
                for (int i = 0; i < set.images().size(); i++) {
                    generator.pair(set.ids().get(i), set.images().get(i), pass);
                }
            }
        });
        return Measurement.fromSeconds(PAIRS, "sparkvit", 1, "pairs/s", params(set.size(), set.images().size(), passes),
                (double) passes * set.images().size(), seconds);
    }

    /** Pair samples of every stored image built on the executors of {@code spark} (cached input, counted). */
    Measurement sparkPairs(SparkSession spark, String dataset) {
        Manifest manifest = StoredImages.manifest(spark, dataset);
        int size = manifest.storedSize();
        int passes = passes(size);
        PairGenerator generator = new PairGenerator(Augmentations.simclr(size, StoredImages.normalization(manifest)),
                SEED);
        Dataset<Row> stored = StoredImages.read(spark, dataset, null).cache();
        try {
            long count = stored.count();
            double[] seconds = Timing.seconds(repeats, () -> {
                for (int pass = 0; pass < passes; pass++) {
                    generator.samples(stored, pass).count();
                }
            });
            return Measurement.fromSeconds(SPARK_PAIRS, "sparkvit", spark.sparkContext().defaultParallelism(),
                    "pairs/s", params(size, (int) count, passes), (double) passes * count, seconds);
        } finally {
            stored.unpersist();
        }
    }

    private static Map<String, Object> params(int size, int images, int passes) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("size", size);
        p.put("images", images);
        p.put("passes", passes);
        return p;
    }
}
