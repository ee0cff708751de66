package dev.sparkvit.data.ingest;

import static org.apache.spark.sql.functions.col;

import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.image.RgbImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;

/** Reads an ingested dataset, checking its schema before any work starts. */
public final class StoredImages {
    private StoredImages() {
    }

    /**
     * Why {@code datasetDir} is not a dataset ("does not exist", "is not a dataset: it has no manifest.json ..."), or
     * null when it is one or is not a local path; read before Spark starts.
     */
    public static String datasetProblem(String datasetDir) {
        java.nio.file.Path dir = dev.sparkvit.config.PathChecks.local(datasetDir);
        if (dir == null) {
            return null;
        }
        if (!java.nio.file.Files.exists(dir)) {
            return "does not exist";
        }
        if (!java.nio.file.Files.isDirectory(dir)) {
            return "is a file, not a dataset folder";
        }
        if (!java.nio.file.Files.isRegularFile(dir.resolve(StoredImageSchema.MANIFEST_FILE))) {
            return "is not a dataset: it has no " + StoredImageSchema.MANIFEST_FILE + " (run sparkvit ingest on an "
                    + "image folder first)";
        }
        return null;
    }

    /**
     * The manifest of a local dataset, read before Spark starts, or null for a remote path.
     *
     * @throws IllegalArgumentException "{what} {dir} {problem}" when it is no dataset or its manifest is unreadable
     */
    public static Manifest localManifest(String what, String datasetDir) {
        String problem = datasetProblem(datasetDir);
        if (problem != null) {
            throw new IllegalArgumentException(what + " " + datasetDir + " " + problem);
        }
        if (dev.sparkvit.config.PathChecks.local(datasetDir) == null) {
            return null;
        }
        try {
            return new DatasetFiles(datasetDir, new org.apache.hadoop.conf.Configuration()).readManifest();
        } catch (IOException e) {
            throw new IllegalArgumentException(what + " " + datasetDir + ": cannot read its "
                    + StoredImageSchema.MANIFEST_FILE + ": " + oneLine(e.getMessage()), e);
        }
    }

    /** Images of {@code split} the manifest counts, over all classes. */
    public static long count(Manifest manifest, String split) {
        long n = 0;
        if (manifest.counts() != null) {
            for (java.util.Map<String, Long> bySplit : manifest.counts().values()) {
                n += bySplit == null ? 0 : bySplit.getOrDefault(split, 0L);
            }
        }
        return n;
    }

    private static String oneLine(String text) {
        String t = String.valueOf(text);
        int newline = t.indexOf('\n');
        return newline < 0 ? t : t.substring(0, newline);
    }

    /**
     * Every Parquet shard of the image table must be one: the magic at both ends and a footer whose schema has the
     * stored image columns. Spark reads one footer for the schema and the others inside tasks, where a damaged or
     * foreign shard ended the job with a stack trace; this reads each footer (a few KB) on the driver.
     */
    static void checkShards(org.apache.hadoop.conf.Configuration conf, String datasetDir, String imagesPath) {
        org.apache.hadoop.fs.Path dir = new org.apache.hadoop.fs.Path(imagesPath);
        org.apache.hadoop.fs.FileStatus[] files;
        try {
            org.apache.hadoop.fs.FileSystem fs = dir.getFileSystem(conf);
            if (!fs.exists(dir)) {
                return;
            }
            files = fs.listStatus(dir, p -> !p.getName().startsWith("_") && !p.getName().startsWith("."));
        } catch (IOException e) {
            throw new IllegalArgumentException("dataset " + datasetDir + ": cannot list " + imagesPath + ": "
                    + oneLine(e.getMessage()), e);
        }
        for (org.apache.hadoop.fs.FileStatus file : files) {
            if (!file.isFile()) {
                continue;
            }
            org.apache.parquet.schema.MessageType schema;
            try (org.apache.parquet.hadoop.ParquetFileReader reader = org.apache.parquet.hadoop.ParquetFileReader.open(
                    org.apache.parquet.hadoop.util.HadoopInputFile.fromStatus(file, conf))) {
                schema = reader.getFooter().getFileMetaData().getSchema();
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException("dataset " + datasetDir + ": shard " + file.getPath()
                        + " is damaged or not Parquet (" + oneLine(e.getMessage()) + ")", e);
            }
            for (StructField expected : StoredImageSchema.IMAGES.fields()) {
                if (!schema.containsField(expected.name())) {
                    throw new IllegalArgumentException("dataset " + datasetDir + ": shard " + file.getPath()
                            + " is not a stored image table: it lacks column '" + expected.name() + "'");
                }
            }
        }
    }

    /** The stored images of {@code split} ("train", "val", "test", or null for all). */
    public static Dataset<Row> read(SparkSession spark, String datasetDir, String split) {
        String path = datasetDir.replaceAll("/+$", "") + "/" + StoredImageSchema.IMAGES_DIR;
        org.apache.hadoop.conf.Configuration conf = spark.sparkContext().hadoopConfiguration();
        try {
            org.apache.hadoop.fs.Path images = new org.apache.hadoop.fs.Path(path);
            if (images.getFileSystem(conf).exists(new org.apache.hadoop.fs.Path(datasetDir))
                    && images.getFileSystem(conf).exists(new org.apache.hadoop.fs.Path(datasetDir,
                            StoredImageSchema.MANIFEST_FILE))
                    && !images.getFileSystem(conf).exists(images)) {
                throw new IllegalArgumentException("dataset " + datasetDir + " holds no images (its input had no "
                        + "valid image)");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("dataset " + datasetDir + ": cannot read " + path + ": "
                    + oneLine(e.getMessage()), e);
        }
        checkShards(conf, datasetDir, path);
        Dataset<Row> images;
        try {
            images = spark.read().parquet(path);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("dataset " + datasetDir + " has no readable image table at " + path
                    + " (run sparkvit ingest first): " + e.getMessage(), e);
        }
        for (StructField expected : StoredImageSchema.IMAGES.fields()) {
            boolean found = false;
            for (StructField actual : images.schema().fields()) {
                found |= actual.name().equals(expected.name()) && actual.dataType().equals(expected.dataType());
            }
            if (!found) {
                throw new IllegalArgumentException("dataset " + datasetDir + ": image table lacks column '"
                        + expected.name() + "' of type " + expected.dataType().simpleString());
            }
        }
        return split == null ? images : images.filter(col("split").equalTo(split));
    }

    /** The manifest of a dataset. */
    public static Manifest manifest(SparkSession spark, String datasetDir) {
        String problem = datasetProblem(datasetDir);
        if (problem != null) {
            throw new IllegalArgumentException("dataset " + datasetDir + " " + problem);
        }
        try {
            return new DatasetFiles(datasetDir, spark.sparkContext().hadoopConfiguration()).readManifest();
        } catch (java.io.FileNotFoundException e) {
            throw new IllegalArgumentException("dataset " + datasetDir + " is not a dataset: it has no "
                    + StoredImageSchema.MANIFEST_FILE + " (run sparkvit ingest first)", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the manifest of dataset " + datasetDir, e);
        }
    }

    /**
     * The normalisation of a dataset: its manifest's per-channel mean and standard deviation (std floored at 1e-3 so
     * a flat dataset does not divide by zero).
     */
    public static Normalize normalization(Manifest manifest) {
        float[] mean = new float[3];
        float[] std = new float[3];
        for (int c = 0; c < 3; c++) {
            mean[c] = (float) manifest.channelMean()[c];
            std[c] = (float) Math.max(manifest.channelStd()[c], 1e-3);
        }
        return new Normalize(mean, std);
    }

    /**
     * The image of a row of the image table as a model of {@code size}-px images takes it: as stored when the
     * dataset stores that size, else resized (shorter side, then the centred square, antialiased as at ingest).
     */
    public static dev.sparkvit.data.image.FloatImage image(Row row, int size) {
        RgbImage image = image(row);
        return image.width() == size && image.height() == size ? dev.sparkvit.data.image.FloatImage.of(image)
                : dev.sparkvit.data.image.Resampler.shorterSideThenCenterCrop(image, size);
    }

    /** The image of a row of the image table. */
    public static RgbImage image(Row row) {
        return new RgbImage(row.getInt(row.fieldIndex("width")), row.getInt(row.fieldIndex("height")),
                (byte[]) row.get(row.fieldIndex("pixels")));
    }
}
