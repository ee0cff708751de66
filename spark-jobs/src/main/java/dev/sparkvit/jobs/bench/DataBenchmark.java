package dev.sparkvit.jobs.bench;

import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.augment.Augmentations;
import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.image.FloatImage;
import dev.sparkvit.data.image.ImageDecoder;
import dev.sparkvit.data.image.Resampler;
import dev.sparkvit.data.image.RgbImage;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestResult;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.data.pairs.PairGenerator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Throughput of ingestion (decode, validate, resize, write) and of SimCLR pair generation on the embedded dataset,
 * each measured two ways in the same run: through Spark on all cores of the session, and in one thread without
 * Spark (the per-core cost of the work itself). Reported as medians of repeated runs; timing is wall clock, so run
 * on a quiet machine and compare numbers from the same run only.
 */
public final class DataBenchmark {
    private final int imageSize;
    private final int imagesPerClass;
    private final int repeats;
    private final Path workDir;

    public DataBenchmark(int imageSize, int imagesPerClass, int repeats, Path workDir) {
        if (repeats < 1 || imagesPerClass < 1) {
            throw new IllegalArgumentException("repeats and images per class must be at least 1");
        }
        this.imageSize = imageSize;
        this.imagesPerClass = imagesPerClass;
        this.repeats = repeats;
        this.workDir = workDir;
    }

    public List<Measurement> run(SparkSession spark) {
        int cores = spark.sparkContext().defaultParallelism();
        Path raw = workDir.resolve("raw");
        int images = new SyntheticImageFolder(imageSize * 2, imagesPerClass, 7).writeTo(raw);
        List<Measurement> results = new ArrayList<>();

        double[] ingestSeconds = new double[repeats];
        String dataset = null;
        for (int r = 0; r < repeats; r++) {
            dataset = workDir.resolve("dataset-" + r).toString();
            long start = System.nanoTime();
            IngestResult result = new IngestJob(IngestSettings.defaults(raw.toString(), dataset)
                    .withStoredSize(imageSize)).execute(spark);
            ingestSeconds[r] = (System.nanoTime() - start) / 1e9;
            if (result.stored() != images) {
                throw new IllegalStateException("benchmark ingest stored " + result.stored() + " of " + images);
            }
        }
        results.add(Measurement.fromSeconds("ingest, Spark (all stages)", "sparkvit", cores, "images/s",
                Map.of("images", images, "size", imageSize), images, ingestSeconds));
        results.add(Measurement.fromSeconds("ingest work (decode+resize)", "sparkvit", 1, "images/s",
                Map.of("images", images, "size", imageSize), images, timeEach(() -> decodeAll(raw))));

        Normalize normalize = StoredImages.normalization(StoredImages.manifest(spark, dataset));
        PairGenerator generator = new PairGenerator(Augmentations.simclr(imageSize, normalize), 42);
        String finalDataset = dataset;
        var stored = StoredImages.read(spark, finalDataset, null).cache();
        long count = stored.count();
        double[] pairSeconds = timeEach(() -> generator.samples(stored, 0).count());
        results.add(Measurement.fromSeconds("SimCLR pairs, Spark (to DLlib samples)", "sparkvit", cores, "pairs/s",
                Map.of("images", count, "size", imageSize), count, pairSeconds));
        List<Row> rows = stored.collectAsList();
        results.add(Measurement.fromSeconds("SimCLR pairs", "sparkvit", 1, "pairs/s",
                Map.of("images", rows.size(), "size", imageSize), rows.size(), timeEach(() -> {
                    for (Row row : rows) {
                        generator.pair(row.getString(row.fieldIndex("id")), StoredImages.image(row), 0);
                    }
                })));
        stored.unpersist();
        return results;
    }

    private double[] timeEach(Runnable work) {
        work.run(); // warm-up: JIT and class loading
        double[] seconds = new double[repeats];
        for (int r = 0; r < repeats; r++) {
            long start = System.nanoTime();
            work.run();
            seconds[r] = (System.nanoTime() - start) / 1e9;
        }
        return seconds;
    }

    private void decodeAll(Path raw) {
        ImageDecoder decoder = new ImageDecoder(8, 100_000_000L);
        try (Stream<Path> files = Files.walk(raw)) {
            for (Path file : files.filter(Files::isRegularFile).sorted(Comparator.naturalOrder()).toList()) {
                RgbImage image = decoder.decode(Files.readAllBytes(file)).image();
                Resampler.shorterSideThenCenterCrop(FloatImage.of(image), imageSize).toRgb();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
