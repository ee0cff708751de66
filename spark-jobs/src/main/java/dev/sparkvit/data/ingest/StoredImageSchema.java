package dev.sparkvit.data.ingest;

import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** The tables of an ingested dataset: one schema constant each, checked before a dataset is read. */
public final class StoredImageSchema {
    /** Stored images: {@code pixels} are height x width x channels bytes, RGB interleaved, row-major. */
    public static final StructType IMAGES = new StructType()
            .add("id", DataTypes.StringType, false)
            .add("label", DataTypes.StringType, true)
            .add("label_index", DataTypes.IntegerType, false)
            .add("split", DataTypes.StringType, false)
            .add("height", DataTypes.IntegerType, false)
            .add("width", DataTypes.IntegerType, false)
            .add("channels", DataTypes.IntegerType, false)
            .add("pixels", DataTypes.BinaryType, false)
            .add("source_path", DataTypes.StringType, false)
            .add("hash", DataTypes.StringType, false);

    /** Rejected input files. */
    public static final StructType QUARANTINE = new StructType()
            .add("source_path", DataTypes.StringType, false)
            .add("reason", DataTypes.StringType, false)
            .add("detail", DataTypes.StringType, true)
            .add("length", DataTypes.LongType, false)
            .add("hash", DataTypes.StringType, true);

    /** Input files whose content was already stored under another path. */
    public static final StructType DUPLICATES = new StructType()
            .add("source_path", DataTypes.StringType, false)
            .add("hash", DataTypes.StringType, false)
            .add("kept_path", DataTypes.StringType, true);

    public static final String IMAGES_DIR = "images";
    public static final String QUARANTINE_DIR = "quarantine";
    public static final String DUPLICATES_DIR = "duplicates";
    public static final String CLASSES_FILE = "classes.json";
    public static final String MANIFEST_FILE = "manifest.json";

    /** Label index of images in an unlabelled dataset. */
    public static final int NO_LABEL = -1;

    private StoredImageSchema() {
    }
}
