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

    /** The stored images of {@code split} ("train", "val", "test", or null for all). */
    public static Dataset<Row> read(SparkSession spark, String datasetDir, String split) {
        String path = datasetDir.replaceAll("/+$", "") + "/" + StoredImageSchema.IMAGES_DIR;
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
        try {
            return new DatasetFiles(datasetDir, spark.sparkContext().hadoopConfiguration()).readManifest();
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

    /** The image of a row of the image table. */
    public static RgbImage image(Row row) {
        return new RgbImage(row.getInt(row.fieldIndex("width")), row.getInt(row.fieldIndex("height")),
                (byte[]) row.get(row.fieldIndex("pixels")));
    }
}
