package dev.sparkvit.data.ingest;

import java.util.Objects;

/**
 * What the ingest job reads and how it validates and stores images.
 *
 * @param input root of the image tree (any Hadoop path: local, hdfs://, s3a://)
 * @param output dataset folder (Parquet tables, class index, manifest)
 * @param labelled ImageFolder layout ({@code root/<class>/<file>}) when true; unlabelled folders when false
 * @param storedSize side of the stored square images: shorter side resized to it, then centre-cropped
 * @param minSize smallest accepted shorter side of an input image
 * @param maxPixels largest accepted width x height, checked from the header before decoding
 * @param maxFileBytes largest accepted file, checked from the listing before reading
 * @param shards Parquet files written per run for the stored images
 * @param trainFraction share of images in the train split (by hash, stable across runs)
 * @param valFraction share in the validation split; the rest is test
 * @param incremental skip files whose content hash is already in the dataset
 */
public record IngestSettings(String input, String output, boolean labelled, int storedSize, int minSize,
        long maxPixels, long maxFileBytes, int shards, double trainFraction, double valFraction,
        boolean incremental) {

    public IngestSettings {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(output, "output");
        require(storedSize >= 8 && storedSize <= 4096, "stored-size", storedSize, "8 to 4096");
        require(minSize >= 1, "min-size", minSize, "at least 1");
        require(maxPixels >= 1, "max-pixels", maxPixels, "at least 1");
        require(maxFileBytes >= 1, "max-file-bytes", maxFileBytes, "at least 1");
        require(shards >= 1, "shards", shards, "at least 1");
        require(trainFraction > 0 && valFraction >= 0 && trainFraction + valFraction <= 1, "train/val fractions",
                trainFraction + "/" + valFraction, "train > 0, val >= 0, train + val <= 1");
    }

    /** Defaults for everything but the paths: 32 px stored, 8 px minimum, 100 Mpx and 64 MiB limits, 80/10/10. */
    public static IngestSettings defaults(String input, String output) {
        return new IngestSettings(input, output, true, 32, 8, 100_000_000L, 64L << 20, 4, 0.8, 0.1, false);
    }

    public IngestSettings withStoredSize(int size) {
        return new IngestSettings(input, output, labelled, size, minSize, maxPixels, maxFileBytes, shards,
                trainFraction, valFraction, incremental);
    }

    public IngestSettings withIncremental(boolean on) {
        return new IngestSettings(input, output, labelled, storedSize, minSize, maxPixels, maxFileBytes, shards,
                trainFraction, valFraction, on);
    }

    public IngestSettings withLabelled(boolean on) {
        return new IngestSettings(input, output, on, storedSize, minSize, maxPixels, maxFileBytes, shards,
                trainFraction, valFraction, incremental);
    }

    private static void require(boolean ok, String key, Object value, String expected) {
        if (!ok) {
            throw new IllegalArgumentException("--" + key + " = " + value + " is invalid: expected " + expected);
        }
    }
}
