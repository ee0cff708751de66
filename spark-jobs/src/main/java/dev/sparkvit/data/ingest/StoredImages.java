package dev.sparkvit.data.ingest;

import static org.apache.spark.sql.functions.col;

import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.image.RgbImage;
import dev.sparkvit.data.table.DatasetTable;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** Reads an ingested dataset, checking its schema before any work starts. */
public final class StoredImages {
    private StoredImages() {
    }

    /**
     * The one line refusing a dataset in the folder format of sparkvit before issue 22 (Parquet folders,
     * classes.json and manifest.json, no table), naming the command that migrates it.
     */
    public static String folderFormat(String datasetDir) {
        return "dataset " + datasetDir + " is in the folder format of an earlier sparkvit (" + StoredImageSchema
                .MANIFEST_FILE + ", " + StoredImageSchema.IMAGES_DIR + "/); migrate it once into a table with: "
                + "sparkvit migrate --dataset " + datasetDir;
    }

    /**
     * Whether {@code datasetDir} holds a dataset: a dataset table with a committed ingest, or the folder format of an
     * earlier sparkvit (which the readers and ingest then refuse with {@link #folderFormat}).
     */
    public static boolean isDataset(org.apache.hadoop.conf.Configuration conf, String datasetDir) {
        try {
            DatasetFiles files = new DatasetFiles(datasetDir, conf);
            String location = files.root().toString();
            if (DatasetTable.exists(conf, location)) {
                return DatasetTable.open(conf, location).currentSnapshotId() >= 0;
            }
            return files.exists(StoredImageSchema.MANIFEST_FILE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read dataset " + datasetDir, e);
        }
    }

    /**
     * Why {@code datasetDir} is not a dataset ("does not exist", "is not a dataset: it has no table ...", the
     * folder format), or null when it is one or is not a local path; read before Spark starts.
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
        boolean table = java.nio.file.Files.isDirectory(dir.resolve("metadata"));
        if (!table && java.nio.file.Files.isRegularFile(dir.resolve(StoredImageSchema.MANIFEST_FILE))) {
            return "is in the folder format of an earlier sparkvit; migrate it once into a table with: sparkvit "
                    + "migrate --dataset " + datasetDir;
        }
        if (!table) {
            return "is not a dataset: it has no dataset table (metadata/) nor " + StoredImageSchema.MANIFEST_FILE
                    + " (run sparkvit ingest on an image folder first)";
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
        return committedManifest(what, datasetDir, new org.apache.hadoop.conf.Configuration());
    }

    /** The manifest of the dataset table's current snapshot. */
    private static Manifest committedManifest(String what, String datasetDir, org.apache.hadoop.conf.Configuration conf) {
        DatasetTable table = table(what, datasetDir, conf);
        return committedManifest(what, datasetDir, table, table.currentSnapshotId());
    }

    /** The manifest committed with snapshot {@code snapshot} of {@code table}. */
    private static Manifest committedManifest(String what, String datasetDir, DatasetTable table, long snapshot) {
        try {
            return DatasetFiles.manifest(table.manifestJson(snapshot));
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(what + " " + datasetDir + ": cannot read the manifest of its table "
                    + "(snapshot " + snapshot + "): " + oneLine(e.getMessage()), e);
        }
    }

    /**
     * The dataset's table, at a committed snapshot.
     *
     * @throws IllegalArgumentException one line when there is no table (or the folder format), or no ingest has
     *     committed to it yet
     */
    /** The snapshots of the dataset's table ({@code what} names the option or key in messages). */
    public static SnapshotLog snapshotLog(String what, String datasetDir, org.apache.hadoop.conf.Configuration conf) {
        return SnapshotLog.of(table(what, datasetDir, conf));
    }

    public static DatasetTable table(String what, String datasetDir, org.apache.hadoop.conf.Configuration conf) {
        String location;
        boolean folderFormat;
        try {
            DatasetFiles files = new DatasetFiles(datasetDir, conf);
            location = files.root().toString();
            if (DatasetTable.exists(conf, location)) {
                folderFormat = false;
            } else {
                folderFormat = files.exists(StoredImageSchema.MANIFEST_FILE);
                if (!folderFormat) {
                    throw new IllegalArgumentException(what + " " + datasetDir + " is not a dataset: it has no "
                            + "dataset table (run sparkvit ingest first)");
                }
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new IllegalArgumentException(what + " " + datasetDir + ": cannot read it: " + oneLine(
                    e.getMessage()), e);
        }
        if (folderFormat) {
            throw new IllegalArgumentException(folderFormat(datasetDir));
        }
        DatasetTable table;
        try {
            table = DatasetTable.open(conf, location);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(what + " " + datasetDir + ": cannot read its table: " + oneLine(
                    e.getMessage()), e);
        }
        if (table.currentSnapshotId() < 0) {
            throw new IllegalArgumentException(what + " " + datasetDir + " is not a dataset yet: no ingest has "
                    + "committed to its table (run sparkvit ingest first)");
        }
        return table;
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
     * The stored images of {@code split} ("train", "val", "test", or null for all): the dataset table's current
     * snapshot (schema {@link StoredImageSchema#IMAGES}).
     */
    public static Dataset<Row> read(SparkSession spark, String datasetDir, String split) {
        DatasetTable table = table("dataset", datasetDir, spark.sparkContext().hadoopConfiguration());
        return read(spark, new DatasetSnapshot(datasetDir, table.currentSnapshotId()), split);
    }

    /**
     * The dataset's snapshot {@code id}, or its current one when {@code id} is null: what a run reads from its start
     * to its end.
     *
     * @throws IllegalArgumentException one line when it is no dataset, or has no snapshot {@code id} (never
     *     committed, or expired)
     */
    public static DatasetSnapshot snapshot(SparkSession spark, String datasetDir, Long id) {
        String problem = datasetProblem(datasetDir);
        if (problem != null) {
            throw new IllegalArgumentException("dataset " + datasetDir + " " + problem);
        }
        DatasetTable table = table("dataset", datasetDir, spark.sparkContext().hadoopConfiguration());
        if (id == null) {
            return new DatasetSnapshot(datasetDir, table.currentSnapshotId());
        }
        if (table.table().snapshot(id) == null) {
            throw new IllegalArgumentException(unknownSnapshot(datasetDir, id, table));
        }
        return new DatasetSnapshot(datasetDir, id);
    }

    /** The line refusing snapshot {@code id} of a dataset whose table lacks it, naming its current snapshot. */
    private static String unknownSnapshot(String datasetDir, long id, DatasetTable table) {
        return "dataset " + datasetDir + " has no snapshot " + id + " (never committed, or expired); its current "
                + "snapshot is " + table.currentSnapshotId();
    }

    /** The stored images of {@code split} ("train", "val", "test", or null for all) in {@code snapshot} exactly. */
    public static Dataset<Row> read(SparkSession spark, DatasetSnapshot snapshotOf, String split) {
        String datasetDir = snapshotOf.dataset();
        DatasetTable table = table("dataset", datasetDir, spark.sparkContext().hadoopConfiguration());
        long snapshot = snapshotOf.id();
        if (table.table().snapshot(snapshot) == null) {
            throw new IllegalArgumentException(unknownSnapshot(datasetDir, snapshot, table));
        }
        if (committedImages(table, snapshot) == 0) {
            throw new IllegalArgumentException("dataset " + datasetDir + " holds no images (its input had no "
                    + "valid image)");
        }
        checkDataFiles(spark.sparkContext().hadoopConfiguration(), datasetDir, table, snapshot);
        Dataset<Row> images = table.images(spark, snapshot);
        return split == null ? images : images.filter(col("split").equalTo(split));
    }

    /**
     * Every data file of the snapshot's images must be Parquet with the table's columns: the magic at both ends and a
     * footer naming the stored image columns. Spark reads them inside tasks, where a damaged file ended the job with
     * a stack trace; this reads each footer (a few KB) on the driver, one per data file (files are sized by bytes,
     * so their number grows with the dataset's bytes / 256 MiB).
     */
    static void checkDataFiles(org.apache.hadoop.conf.Configuration conf, String datasetDir, DatasetTable table,
            long snapshot) {
        try (org.apache.iceberg.io.CloseableIterable<org.apache.iceberg.FileScanTask> tasks = table.table().newScan()
                .useSnapshot(snapshot).filter(org.apache.iceberg.expressions.Expressions.equal(DatasetTable.KIND,
                        DatasetTable.IMAGE)).planFiles()) {
            for (org.apache.iceberg.FileScanTask task : tasks) {
                org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(task.file().path().toString());
                org.apache.parquet.schema.MessageType schema;
                try (org.apache.parquet.hadoop.ParquetFileReader reader = org.apache.parquet.hadoop.ParquetFileReader
                        .open(org.apache.parquet.hadoop.util.HadoopInputFile.fromPath(file, conf))) {
                    schema = reader.getFooter().getFileMetaData().getSchema();
                } catch (IOException | RuntimeException e) {
                    throw new IllegalArgumentException("dataset " + datasetDir + ": data file " + file
                            + " is damaged or not Parquet (" + oneLine(e.getMessage()) + ")", e);
                }
                for (org.apache.spark.sql.types.StructField expected : StoredImageSchema.IMAGES.fields()) {
                    if (!schema.containsField(expected.name())) {
                        throw new IllegalArgumentException("dataset " + datasetDir + ": data file " + file
                                + " is not a stored image table: it lacks column '" + expected.name() + "'");
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long committedImages(DatasetTable table, long snapshot) {
        try {
            return DatasetFiles.manifest(table.manifestJson(snapshot)).images();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The manifest of a dataset (its table's current snapshot). */
    public static Manifest manifest(SparkSession spark, String datasetDir) {
        String problem = datasetProblem(datasetDir);
        if (problem != null) {
            throw new IllegalArgumentException("dataset " + datasetDir + " " + problem);
        }
        return committedManifest("dataset", datasetDir, spark.sparkContext().hadoopConfiguration());
    }

    /** The manifest committed with {@code snapshot} (its classes, counts, normalisation). */
    public static Manifest manifest(SparkSession spark, DatasetSnapshot snapshot) {
        DatasetTable table = table("dataset", snapshot.dataset(), spark.sparkContext().hadoopConfiguration());
        if (table.table().snapshot(snapshot.id()) == null) {
            throw new IllegalArgumentException(unknownSnapshot(snapshot.dataset(), snapshot.id(), table));
        }
        return committedManifest("dataset", snapshot.dataset(), table, snapshot.id());
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
