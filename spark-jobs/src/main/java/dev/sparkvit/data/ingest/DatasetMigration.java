package dev.sparkvit.data.ingest;

import dev.sparkvit.data.table.DatasetTable;
import java.io.IOException;
import java.util.List;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Moves a dataset of the folder format (before issue 22: Parquet folders images/, quarantine/, duplicates/ plus
 * classes.json and manifest.json) into the dataset table in its folder, as one commit holding all its rows, its class
 * index and its manifest; then deletes the old files. A run killed before the commit leaves the folder format as it
 * was (run again); one killed after it leaves the table committed, and any old files left are ignored by readers and
 * deleted by the next migrate run. Runs under the dataset lock.
 */
public final class DatasetMigration {
    private DatasetMigration() {
    }

    /**
     * Migrates {@code datasetDir}; returns the images it holds.
     *
     * @throws IllegalArgumentException one line when it is no dataset of either format, or its class index is
     *     damaged ({@link ClassIndexCheck})
     */
    public static long migrate(SparkSession spark, String datasetDir, Consumer<String> say) throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        DatasetFiles files = new DatasetFiles(datasetDir, conf);
        String location = files.root().toString();
        DatasetTable table = DatasetTable.exists(conf, location) ? DatasetTable.open(conf, location) : null;
        if (table != null && table.currentSnapshotId() >= 0) {
            int removed = removeFolderFormat(files);
            say.accept("dataset " + datasetDir + " is already a table (snapshot " + table.currentSnapshotId() + ")"
                    + (removed > 0 ? "; removed " + removed + " files left of its folder format" : ""));
            return DatasetFiles.manifest(table.manifestJson()).images();
        }
        if (!files.exists(StoredImageSchema.MANIFEST_FILE)) {
            throw new IllegalArgumentException("--dataset " + datasetDir + " is not a dataset of the folder format: "
                    + "it has no " + StoredImageSchema.MANIFEST_FILE + " (nothing to migrate)");
        }
        Manifest manifest;
        List<String> classes;
        try {
            manifest = files.readManifest();
            classes = files.readClasses();
        } catch (IOException e) {
            throw new IllegalArgumentException("--dataset " + datasetDir + ": " + e.getMessage(), e);
        }
        Dataset<Row> images = part(spark, files, StoredImageSchema.IMAGES_DIR, StoredImageSchema.IMAGES);
        Dataset<Row> quarantine = part(spark, files, StoredImageSchema.QUARANTINE_DIR, StoredImageSchema.QUARANTINE);
        Dataset<Row> duplicates = part(spark, files, StoredImageSchema.DUPLICATES_DIR, StoredImageSchema.DUPLICATES);
        if (images != null) {
            String problem = ClassIndexCheck.problem(classes, ClassIndexCheck.pairs(images));
            if (problem != null) {
                throw ClassIndexCheck.damaged(datasetDir, problem);
            }
        }
        if (table == null) {
            table = DatasetTable.create(conf, location);
        }
        long snapshot = table.append(new DatasetTable.Rows(images, quarantine, duplicates), classes,
                DatasetFiles.json(manifest), -1, written -> { });
        int removed = removeFolderFormat(files);
        say.accept("migrated dataset " + datasetDir + " into a table: snapshot " + snapshot + ", " + manifest.images()
                + " images, " + classes.size() + " classes; " + removed + " files of the folder format removed");
        return manifest.images();
    }

    private static Dataset<Row> part(SparkSession spark, DatasetFiles files, String dir,
            org.apache.spark.sql.types.StructType schema) throws IOException {
        return files.exists(dir) ? spark.read().schema(schema).parquet(files.resolve(dir).toString()) : null;
    }

    /** Deletes the folder format's files, the manifest last; returns how many of the five were there. */
    private static int removeFolderFormat(DatasetFiles files) throws IOException {
        int n = 0;
        for (String child : List.of(StoredImageSchema.IMAGES_DIR, StoredImageSchema.QUARANTINE_DIR,
                StoredImageSchema.DUPLICATES_DIR, StoredImageSchema.CLASSES_FILE, StoredImageSchema.MANIFEST_FILE)) {
            n += files.delete(child) ? 1 : 0;
        }
        return n;
    }
}
