package dev.sparkvit.data.ingest;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.map;
import static org.apache.spark.sql.functions.row_number;

import dev.sparkvit.data.image.Decoders;
import dev.sparkvit.data.image.RejectReason;
import dev.sparkvit.data.table.DatasetTable;
import dev.sparkvit.lock.FolderLock;
import dev.sparkvit.lock.LockHeldException;
import dev.sparkvit.lock.LockSubject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ingests an image tree into a dataset. Files are listed and read through the Hadoop client (so local, HDFS and S3A
 * paths work alike), the reading done on the executors one file at a time, so that one unreadable or malformed file
 * becomes a quarantine row instead of a failed job. The listing does not use Spark's {@code binaryFile} source:
 * it silently drops zero-length files (and sockets), which would leave input files unaccounted for. Stages run under named Spark job
 * groups ({@code ingest:list}, {@code ingest:decode}, {@code ingest:manifest}, {@code ingest:write}). A run is one
 * commit of the dataset's table ({@link DatasetTable}: its rows, quarantine and duplicate records, class index and
 * manifest) on top of the snapshot it read; files already known are found by a join against that snapshot.
 */
public final class IngestJob {
    private static final Logger LOG = LoggerFactory.getLogger(IngestJob.class);

    /** One row per listed file after processing. */
    private static final StructType OUTCOMES = new StructType()
            .add("path", DataTypes.StringType, false)
            .add("label", DataTypes.StringType, true)
            .add("length", DataTypes.LongType, false)
            .add("hash", DataTypes.StringType, true)
            .add("status", DataTypes.StringType, false)
            .add("reason", DataTypes.StringType, true)
            .add("detail", DataTypes.StringType, true)
            .add("split", DataTypes.StringType, true)
            .add("height", DataTypes.IntegerType, true)
            .add("width", DataTypes.IntegerType, true)
            .add("pixels", DataTypes.BinaryType, true);

    private static final long FILES_PER_TASK = 2000;
    private static final String DECODED = "decoded";
    private static final String REJECTED = "rejected";
    private static final String PRESENT = "present";

    /**
     * Runs after the run's data files are written and before its commit; tests replace it with one that throws, to
     * leave the dataset as a run killed at that moment would.
     */
    static volatile Runnable beforeCommit = () -> { };
    /**
     * How old an unreferenced data file must be before a run holding the lock removes it
     * ({@link dev.sparkvit.data.table.OrphanFiles}); tests lower it.
     */
    static volatile long orphanMinAgeMillis = 10 * 60_000L;

    private final IngestSettings settings;
    private final Consumer<String> say;

    /** An ingest whose lines for the user (a take-over of a dead run's lock, a repair) are logged. */
    public IngestJob(IngestSettings settings) {
        this(settings, line -> LOG.warn("{}", line));
    }

    /**
     * @param say where the lines for the user go: the take-over of a dead run's dataset lock, and the repair of a
     *     dataset an interrupted run left between two states
     */
    public IngestJob(IngestSettings settings, Consumer<String> say) {
        this.settings = settings;
        this.say = say;
    }

    /** Takes the dataset's lock ({@link #lock}), ingests, and releases it. */
    public IngestResult execute(SparkSession spark) {
        checkPaths(settings, "ingest input", "ingest output");
        try (FolderLock lock = lock(settings, "ingest output", spark.sparkContext().hadoopConfiguration(), say)) {
            return execute(spark, lock);
        }
    }

    /**
     * Takes the lock of the output dataset, which every run that writes a dataset holds for its whole write
     * (ingest, incremental ingest, a retrain run's ingest): a second writer stops at once, changing nothing. A lock
     * left by a killed run is taken over as the registry's is ({@link FolderLock}); a take-over is said through
     * {@code say}.
     *
     * @param outputName how messages name the output ({@code --output})
     * @throws LockHeldException when another run holds it
     * @throws dev.sparkvit.config.ConfigException when the output is on an object store other than S3 (s3a://, where
     *     the lock is taken by write, settle, verify: {@link FolderLock}), or the S3 settle delay or lease is invalid
     */
    public static FolderLock lock(IngestSettings settings, String outputName, Configuration conf,
            Consumer<String> say) {
        return FolderLock.acquire(LockSubject.DATASET, settings.output(), outputName, conf, say);
    }

    /** Ingests with the dataset's lock already held (the CLI takes it before Spark starts). */
    public IngestResult execute(SparkSession spark, FolderLock lock) {
        checkPaths(settings, "ingest input", "ingest output");
        try {
            return run(spark, lock);
        } catch (IOException e) {
            throw new UncheckedIOException("ingest of " + settings.input() + " into " + settings.output() + " failed", e);
        }
    }

    /** The path with links resolved as far as it exists (an output may not exist yet). */
    private static java.nio.file.Path real(java.nio.file.Path path) {
        java.nio.file.Path absolute = path.toAbsolutePath().normalize();
        java.nio.file.Path existing = absolute;
        while (existing != null && !java.nio.file.Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return absolute;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(absolute));
        } catch (IOException e) {
            return absolute;
        }
    }

    /**
     * The checks of a local input and output made before any work (and, from the CLI, before Spark starts): the
     * input exists, the output is a folder that can be written, and {@code --incremental} adds to a dataset, not to a
     * folder of other files.
     *
     * @param inputName how the input is named in messages ({@code --input})
     * @param outputName how the output is named in messages ({@code --output})
     * @throws IllegalArgumentException one line naming the path and what is wrong
     */
    public static void checkPaths(IngestSettings settings, String inputName, String outputName) {
        java.nio.file.Path input = dev.sparkvit.config.PathChecks.local(settings.input());
        if (input != null && !java.nio.file.Files.exists(input)) {
            throw new IllegalArgumentException(inputName + " " + settings.input() + " does not exist");
        }
        if (input != null && !java.nio.file.Files.isDirectory(input)) {
            throw new IllegalArgumentException(inputName + " " + settings.input() + " is a file, not a folder of "
                    + "images" + (settings.labelled() ? " (root/<class>/<file>)" : ""));
        }
        if (input != null) {
            try (java.util.stream.Stream<java.nio.file.Path> entries = java.nio.file.Files.list(input)) {
                if (entries.findAny().isEmpty()) {
                    throw new IllegalArgumentException(inputName + " " + settings.input() + " is empty: nothing to "
                            + "ingest");
                }
            } catch (IOException e) {
                throw new IllegalArgumentException(inputName + " " + settings.input() + " cannot be read: "
                        + e.getMessage());
            }
        }
        dev.sparkvit.config.PathChecks.requireFolder(outputName, settings.output());
        java.nio.file.Path output = dev.sparkvit.config.PathChecks.local(settings.output());
        if (input != null && output != null) {
            java.nio.file.Path in = real(input);
            java.nio.file.Path out = real(output);
            if (out.startsWith(in)) {
                throw new IllegalArgumentException(outputName + " " + settings.output() + " lies inside " + inputName
                        + " " + settings.input() + ": the dataset's own files would be read as input images (and "
                        + "quarantined) on every run; choose an output outside the input");
            }
        }
        boolean table = output != null && java.nio.file.Files.isDirectory(output.resolve("metadata"));
        long snapshot = -1;
        if (table) {
            try {
                snapshot = DatasetTable.open(new Configuration(), output.toString()).currentSnapshotId();
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(outputName + " " + settings.output() + " has a metadata/ folder "
                        + "that is no readable dataset table (" + e.getMessage().lines().findFirst().orElse("")
                        + "); choose a new or empty output folder");
            }
        }
        if (table && !settings.incremental() && snapshot >= 0) {
            throw new IllegalArgumentException(outputName + " " + settings.output() + " already holds a dataset "
                    + "(its table); use --incremental to add new files to it, or choose a new output folder");
        }
        if (output != null && !table && settings.incremental()
                && java.nio.file.Files.exists(output.resolve(StoredImageSchema.MANIFEST_FILE))) {
            throw new IllegalArgumentException(StoredImages.folderFormat(settings.output()));
        }
        if (output != null && !table && !settings.incremental() && java.nio.file.Files.isDirectory(output)) {
            if (java.nio.file.Files.exists(output.resolve(StoredImageSchema.MANIFEST_FILE))) {
                throw new IllegalArgumentException(outputName + " " + settings.output() + " already holds a dataset "
                        + "(its " + StoredImageSchema.MANIFEST_FILE + "); use --incremental to add new files to it, or "
                        + "choose a new output folder");
            }
            List<String> found = new ArrayList<>();
            for (String name : List.of(StoredImageSchema.IMAGES_DIR, StoredImageSchema.CLASSES_FILE,
                    StoredImageSchema.QUARANTINE_DIR, StoredImageSchema.DUPLICATES_DIR)) {
                if (java.nio.file.Files.exists(output.resolve(name))) {
                    found.add(name);
                }
            }
            if (!found.isEmpty()) {
                throw new IllegalArgumentException(outputName + " " + settings.output() + " holds " + String.join(
                        ", ", found) + " but no " + StoredImageSchema.MANIFEST_FILE + ": not a finished dataset (an "
                        + "interrupted ingest, or another program's files); choose a new or empty output folder");
            }
        }
        if (output != null && !table && settings.incremental() && java.nio.file.Files.isDirectory(output)
                && !java.nio.file.Files.exists(output.resolve(StoredImageSchema.MANIFEST_FILE))
                && !java.nio.file.Files.exists(output.resolve(StoredImageSchema.IMAGES_DIR))) {
            boolean empty;
            try (java.util.stream.Stream<java.nio.file.Path> entries = java.nio.file.Files.list(output)) {
                // the dataset lock (ours, or a killed first run's) is no content
                empty = entries.noneMatch(p -> !p.getFileName().toString().startsWith(FolderLock.FILE));
            } catch (IOException e) {
                throw new IllegalArgumentException(outputName + " " + settings.output() + " cannot be read: "
                        + e.getMessage());
            }
            if (!empty) {
                throw new IllegalArgumentException(outputName + " " + settings.output() + " is not a dataset (it has "
                        + "no " + StoredImageSchema.MANIFEST_FILE + "); --incremental adds to a dataset written by "
                        + "sparkvit ingest: choose that folder, or a new or empty one");
            }
        }
    }

    private IngestResult run(SparkSession spark, FolderLock lock) throws IOException {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Configuration hadoop = sc.hadoopConfiguration();
        DatasetFiles dataset = new DatasetFiles(settings.output(), hadoop);
        if (!lock.folder().equals(dataset.root().toString()) && !lock.folder().equals(
                new Path(dataset.root().toUri().getPath()).toString())) {
            throw new IllegalArgumentException("the lock " + lock.location() + " is not dataset " + settings.output()
                    + "'s");
        }
        String location = dataset.root().toString();
        boolean hasTable = DatasetTable.exists(hadoop, location);
        if (!hasTable && (dataset.exists(StoredImageSchema.MANIFEST_FILE)
                || dataset.exists(StoredImageSchema.IMAGES_DIR))) {
            throw new IllegalArgumentException(StoredImages.folderFormat(settings.output()));
        }
        // a table with no snapshot is a first run killed before its commit: nothing of it is visible
        DatasetTable table = hasTable ? DatasetTable.open(hadoop, location) : null;
        long base = table == null ? -1 : table.currentSnapshotId();
        boolean existing = base >= 0;
        if (existing && !settings.incremental()) {
            throw new IllegalArgumentException("output " + settings.output() + " already holds a dataset; use "
                    + "--incremental to add new files to it, or choose a new output folder");
        }
        if (existing) { // under the lock: the files a killed writer left before its commit
            sc.setJobGroup("ingest:orphans", "remove data files no snapshot references", false);
            List<String> orphans = dev.sparkvit.data.table.OrphanFiles.remove(spark, table,
                    System.currentTimeMillis() - orphanMinAgeMillis);
            if (!orphans.isEmpty()) {
                say.accept("removed " + orphans.size() + " data file" + (orphans.size() == 1 ? "" : "s") + " of "
                        + settings.output() + " that no snapshot references (left by a run killed before its "
                        + "commit)");
            }
        }
        String root = qualifiedRoot(hadoop);
        Decoders.configured(); // a bad sparkvit.decoders setting fails here, before any Spark work

        sc.setJobGroup("ingest:list", "list input files under " + settings.input(), false);
        // listed by a Spark job, at least four tasks per core and no more than FILES_PER_TASK files in one task
        FileListing.Listing listed = FileListing.list(spark, settings.input(), FILES_PER_TASK);
        try {
            return ingest(spark, sc, lock, table, base, root, listed);
        } finally {
            listed.release();
        }
    }

    private IngestResult ingest(SparkSession spark, JavaSparkContext sc, FolderLock lock, DatasetTable table,
            long base, String root, FileListing.Listing listed) throws IOException {
        Configuration hadoop = sc.hadoopConfiguration();
        boolean existing = base >= 0;
        long inputFiles = listed.count();
        if (inputFiles == 0) {
            // an empty dataset with mean and std 0 was written, and the command ended with exit code 0
            throw new IllegalArgumentException("input " + settings.input() + " holds no files: nothing to ingest");
        }
        int tasks = listed.tasks();
        Dataset<Row> listing = listed.files();
        LOG.info("stage list: {} files under {}", inputFiles, root);

        LongAccumulator processed = sc.sc().longAccumulator("ingest.files");
        // Broadcast, not captured: a captured Hadoop configuration (about 1,000 properties) was serialized into every
        // stage reading the outcomes' lineage and read back in every task, about 0.15 s of CPU per ingest.
        Broadcast<FileProcessor> processor =
                sc.broadcast(new FileProcessor(new HadoopConf(hadoop), settings, Set.of()));
        boolean labelled = settings.labelled();
        double train = settings.trainFraction();
        double val = settings.valFraction();

        Dataset<Row> toProcess = existing
                ? withKnown(spark, listing, table, base, processor, root, labelled, tasks)
                : listing.withColumn("present", lit(false)).withColumn("key", lit(null).cast(DataTypes.StringType));
        sc.setJobGroup("ingest:decode", "read, validate, decode and resize " + inputFiles + " files", false);
        JavaRDD<Row> outcomeRows = toProcess.javaRDD().mapPartitions((FlatMapFunction<Iterator<Row>, Row>) rows ->
                outcomes(rows, processor.value(), root, labelled, train, val, processed));
        Dataset<Row> outcomes = spark.createDataFrame(outcomeRows, OUTCOMES).persist(StorageLevel.MEMORY_AND_DISK());
        StatusCounts counted;
        try (ProgressLog ignored = new ProgressLog(processed, inputFiles)) {
            counted = countByStatus(outcomes);
        }
        LOG.info("stage decode: {} decoded, {} rejected, {} already present", counted.decoded(), counted.rejected(),
                counted.present());

        // Dedupe on the light columns only; the pixel rows are joined back once, for the write.
        WindowSpec byHash = Window.partitionBy("hash").orderBy("path");
        Dataset<Row> decoded = outcomes.filter(col("status").equalTo(DECODED));
        // The window's shuffle gets as many partitions as the decode stage: left to itself it would use
        // spark.sql.shuffle.partitions (200), and adaptive execution does not coalesce a persisted plan (Spark 3.1),
        // so every later stage reading `ranks` ran 200 tasks, most of them empty.
        Dataset<Row> ranks = decoded.select("path", "hash", "label")
                .repartition(tasks, col("hash"))
                .withColumn("rank", row_number().over(byHash))
                .withColumn("kept_path", first("path").over(byHash))
                .persist(StorageLevel.MEMORY_AND_DISK());
        Dataset<Row> winners = ranks.filter(col("rank").equalTo(1));
        Dataset<Row> kept = decoded.join(winners.select("path"), "path");
        Dataset<Row> duplicates = ranks.filter(col("rank").gt(1))
                .select(col("path").as("source_path"), col("hash"), col("kept_path"));
        Dataset<Row> quarantine = outcomes.filter(col("status").equalTo(REJECTED))
                .select(col("path").as("source_path"), col("reason"), col("detail"), col("length"), col("hash"));

        // One job gives both the labels of the new images and how many there are.
        List<String> classes = existing ? new ArrayList<>(table.classes(base)) : new ArrayList<>();
        Set<String> newLabels = new TreeSet<>();
        long storedCount = 0;
        for (Row r : winners.groupBy("label").count().collectAsList()) {
            if (!r.isNullAt(0)) {
                newLabels.add(r.getString(0));
            }
            storedCount += r.getLong(1);
        }
        if (labelled) {
            newLabels.removeAll(classes);
            classes.addAll(newLabels);
        }
        Dataset<Row> stored = storedRows(kept, classes, labelled);

        try {
            return write(spark, sc, settings, table, base, root, inputFiles, counted, storedCount, classes, stored,
                    quarantine, duplicates, outcomes, ranks, lock);
        } catch (dev.sparkvit.data.table.ClassIndexConflictException e) {
            // another writer committed since this run read the table (its lock was taken over): nothing committed
            throw new LockHeldException(e.getMessage());
        } catch (org.apache.hadoop.fs.FSError e) { // the local file system's write failure (a full disk), an Error
            LOG.error("writing dataset {} failed", settings.output(), e);
            throw new dev.sparkvit.storage.WriteFailedException("cannot write dataset " + settings.output() + ": "
                    + dev.sparkvit.storage.IoCause.of(e), e);
        } catch (Exception e) { // Spark's SparkException is checked, and thrown undeclared from Scala
            if (e instanceof IllegalStateException || !hasIoCause(e)) {
                throw e;
            }
            String cause = dev.sparkvit.storage.IoCause.of(e);
            // the trace stays in the log; the command ends with one line naming the path and the cause
            LOG.error("writing dataset {} failed", settings.output(), e);
            throw new dev.sparkvit.storage.WriteFailedException("cannot write dataset " + settings.output() + ": "
                    + cause, e);
        }
    }

    private static boolean hasIoCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof IOException) {
                return true;
            }
        }
        return false;
    }

    /**
     * Commits the run's rows, quarantine and duplicate records, class index and manifest as one snapshot of the
     * dataset's table ({@link DatasetTable#append}), on top of snapshot {@code base} only: a run that finds nothing
     * new commits nothing.
     */
    private IngestResult write(SparkSession spark, JavaSparkContext sc, IngestSettings settings, DatasetTable table,
            long base, String root, long inputFiles, StatusCounts counted, long storedCount, List<String> classes,
            Dataset<Row> stored, Dataset<Row> quarantine, Dataset<Row> duplicates, Dataset<Row> outcomes,
            Dataset<Row> ranks, FolderLock lock) throws IOException {
        long duplicateCount = counted.decoded() - storedCount;
        long quarantinedCount = counted.rejected();
        long presentCount = counted.present();
        Map<String, Long> rejects = counted.rejectsByReason();
        long accounted = storedCount + duplicateCount + quarantinedCount + presentCount;
        if (accounted != inputFiles) {
            throw new IllegalStateException("ingest lost track of files: " + inputFiles + " listed but " + accounted
                    + " accounted for (stored " + storedCount + ", duplicates " + duplicateCount + ", quarantined "
                    + quarantinedCount + ", already present " + presentCount + ")");
        }
        Manifest.LastRun lastRun = new Manifest.LastRun(root, settings.incremental(), inputFiles, storedCount,
                duplicateCount, quarantinedCount, presentCount, rejects);
        Manifest manifest;
        if (base >= 0 && storedCount + duplicateCount + quarantinedCount == 0) {
            Manifest committed = DatasetFiles.manifest(table.manifestJson(base));
            manifest = new Manifest(committed.storedSize(), committed.labelled(), committed.classes(),
                    committed.images(), committed.counts(), committed.channelMean(), committed.channelStd(),
                    committed.quarantinedByReason(), committed.duplicates(), lastRun);
            LOG.info("stage write: nothing new ({} already present); nothing committed", presentCount);
        } else {
            sc.setJobGroup("ingest:manifest", "compute the dataset's statistics", false);
            Dataset<Row> images = storedCount > 0 ? stored : null;
            Dataset<Row> quarantined = quarantinedCount > 0 ? quarantine : null;
            Dataset<Row> duplicated = duplicateCount > 0 ? duplicates : null;
            manifest = ManifestBuilder.build(settings, classes, lastRun,
                    plus(table == null ? null : table.images(spark, base), images, spark, StoredImageSchema.IMAGES),
                    plus(table == null ? null : table.quarantine(spark, base), quarantined, spark,
                            StoredImageSchema.QUARANTINE),
                    plus(table == null ? null : table.duplicates(spark, base), duplicated, spark,
                            StoredImageSchema.DUPLICATES));
            sc.setJobGroup("ingest:write", "write and commit the images, quarantine and duplicates", false);
            lock.ensureHeld();
            DatasetTable target = table != null ? table : DatasetTable.create(sc.hadoopConfiguration(),
                    new DatasetFiles(settings.output(), sc.hadoopConfiguration()).root().toString());
            long snapshot = target.append(new DatasetTable.Rows(
                    images == null ? null : images.repartition(settings.shards()),
                    quarantined == null ? null : quarantined.coalesce(1),
                    duplicated == null ? null : duplicated.coalesce(1)), classes, DatasetFiles.json(manifest), base,
                    written -> {
                        lock.ensureHeld();
                        beforeCommit.run();
                    });
            LOG.info("stage write: snapshot {}: {} stored, {} duplicates, {} quarantined {}, {} already present",
                    snapshot, storedCount, duplicateCount, quarantinedCount, rejects, presentCount);
        }
        outcomes.unpersist();
        ranks.unpersist();
        LOG.info("stage manifest: {} images in the dataset, channel mean {} std {}", manifest.images(),
                java.util.Arrays.toString(manifest.channelMean()), java.util.Arrays.toString(manifest.channelStd()));
        return new IngestResult(inputFiles, storedCount, duplicateCount, quarantinedCount, presentCount, rejects,
                manifest);
    }

    /** The committed rows of a kind plus this run's new ones (either may be null: none). */
    private static Dataset<Row> plus(Dataset<Row> committed, Dataset<Row> added, SparkSession spark,
            StructType schema) {
        Dataset<Row> a = added == null ? null : added.select(java.util.Arrays.stream(schema.fieldNames())
                .map(org.apache.spark.sql.functions::col).toArray(Column[]::new));
        if (committed == null) {
            return a != null ? a : spark.createDataFrame(List.<Row>of(), schema);
        }
        return a == null ? committed : committed.union(a);
    }

    private String qualifiedRoot(Configuration hadoop) throws IOException {
        Path path = new Path(settings.input());
        FileSystem fs = path.getFileSystem(hadoop);
        if (!fs.exists(path)) {
            throw new IllegalArgumentException("--input " + settings.input() + " does not exist");
        }
        String root = fs.makeQualified(path).toString();
        return root.endsWith("/") ? root : root + "/";
    }

    /** The first folder below the root, or null when the file sits directly under the root or layout is flat. */
    static String labelOf(String root, String path, boolean labelled) {
        if (!labelled) {
            return null;
        }
        String relative = path.startsWith(root) ? path.substring(root.length()) : path;
        int slash = relative.indexOf('/');
        return slash <= 0 ? null : relative.substring(0, slash);
    }

    /** Processes listed files lazily, one at a time, so a task never holds more than one image. */
    private static Iterator<Row> outcomes(Iterator<Row> rows, FileProcessor processor, String root, boolean labelled,
            double train, double val, LongAccumulator processed) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return rows.hasNext();
            }

            @Override
            public Row next() {
                Row row = rows.next();
                String path = row.getString(0);
                String label = labelOf(root, path, labelled);
                String key = row.isNullAt(3) ? null : row.getString(3);
                FileProcessor.Outcome o = row.getBoolean(2)
                        ? new FileProcessor.Outcome(path, row.getLong(1), key == null || key.startsWith(
                                FileProcessor.pathKey("")) ? null : key, null, null, null, true)
                        : labelled && label == null
                        ? processor.reject(path, row.getLong(1), RejectReason.NO_CLASS_FOLDER,
                                "file is directly under the input root; ImageFolder layout needs root/<class>/<file>")
                        : processor.process(path, row.getLong(1));
                processed.add(1);
                return toRow(o, label, train, val);
            }
        };
    }

    private static Row toRow(FileProcessor.Outcome o, String label, double train, double val) {
        if (o.alreadyPresent()) {
            return RowFactory.create(o.path(), label, o.length(), o.hash(), PRESENT, null, null, null, null, null,
                    null);
        }
        if (o.reason() != null) {
            return RowFactory.create(o.path(), label, o.length(), o.hash(), REJECTED, o.reason().label(), o.detail(),
                    null, null, null, null);
        }
        return RowFactory.create(o.path(), label, o.length(), o.hash(), DECODED, null, null,
                FileProcessor.split(o.hash(), train, val), o.image().height(), o.image().width(), o.image().pixels());
    }

    /** Files by outcome, and the rejected ones by reason. */
    private record StatusCounts(long decoded, long rejected, long present, Map<String, Long> rejectsByReason) {
    }

    /** Counts by status and reason, in one job (the reason is null unless the file was rejected). */
    private static StatusCounts countByStatus(Dataset<Row> outcomes) {
        long[] counts = new long[3];
        Map<String, Long> reasons = new TreeMap<>();
        for (Row r : outcomes.groupBy("status", "reason").count().collectAsList()) {
            switch (r.getString(0)) {
                case DECODED -> counts[0] += r.getLong(2);
                case REJECTED -> {
                    counts[1] += r.getLong(2);
                    reasons.put(r.getString(1), r.getLong(2));
                }
                default -> counts[2] += r.getLong(2);
            }
        }
        return new StatusCounts(counts[0], counts[1], counts[2], reasons);
    }

    /**
     * The image table's columns. The label index comes from a literal map (label to index) in the plan, not a join
     * with a table of classes, which cost a Spark job to broadcast it.
     */
    private static Dataset<Row> storedRows(Dataset<Row> kept, List<String> classes, boolean labelled) {
        Column labelIndex;
        if (labelled) {
            List<Column> entries = new ArrayList<>();
            for (int i = 0; i < classes.size(); i++) {
                entries.add(lit(classes.get(i)));
                entries.add(lit(i));
            }
            // every stored label is in classes (new ones were appended above); coalesce keeps the column non-null
            labelIndex = coalesce(element_at(map(entries.toArray(new Column[0])), col("label")),
                    lit(StoredImageSchema.NO_LABEL));
        } else {
            labelIndex = lit(StoredImageSchema.NO_LABEL);
        }
        return kept.select(col("hash").as("id"), col("label"), labelIndex.as("label_index"), col("split"),
                col("height"), col("width"), lit(3).as("channels"), col("pixels"), col("path").as("source_path"),
                col("hash"));
    }

    /** The listing's rows, (path, length), with their key ({@link FileProcessor#key}) and whether it is known. */
    private static final StructType KEYED = new StructType()
            .add("path", DataTypes.StringType, false).add("length", DataTypes.LongType, false)
            .add("key", DataTypes.StringType, false);

    /**
     * The listing with columns {@code present} (an earlier run stored, quarantined or recorded the file's content,
     * or quarantined its path before hashing it) and {@code key}: each file is read and hashed on the executors,
     * then left-joined with the keys of snapshot {@code base} (a distributed join; no set of hashes on the driver).
     * A quarantine record of {@code retry_later} (decoding ran out of memory) is no known verdict: tried again.
     */
    private static Dataset<Row> withKnown(SparkSession spark, Dataset<Row> listing, DatasetTable table, long base,
            Broadcast<FileProcessor> processor, String root, boolean labelled, int tasks) {
        JavaRDD<Row> keyed = listing.javaRDD().map(row -> {
            String path = row.getString(0);
            boolean noClassFolder = labelled && labelOf(root, path, true) == null;
            return RowFactory.create(path, row.getLong(1), processor.value().key(path, row.getLong(1),
                    noClassFolder));
        });
        Dataset<Row> files = spark.createDataFrame(keyed, KEYED);
        Dataset<Row> quarantine = table.quarantine(spark, base);
        Dataset<Row> known = table.images(spark, base).select(col("hash").as("known"))
                .union(table.duplicates(spark, base).select(col("hash").as("known")))
                .union(quarantine.filter(col("reason").isNull().or(col("reason").notEqual(
                        RejectReason.RETRY_LATER.label())))
                        .select(coalesce(col("hash"), org.apache.spark.sql.functions.concat(lit(
                                FileProcessor.pathKey("")), col("source_path"))).as("known")))
                .distinct();
        return files.join(known, files.col("key").equalTo(known.col("known")), "left")
                .select(col("path"), col("length"), col("known").isNotNull().as("present"), col("key"))
                .repartition(tasks);
    }

    /** Logs "n/total files processed" every ten seconds while a stage runs. */
    private static final class ProgressLog implements AutoCloseable {
        private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ingest-progress");
            t.setDaemon(true);
            return t;
        });

        ProgressLog(LongAccumulator processed, long total) {
            timer.scheduleAtFixedRate(() -> LOG.info("stage decode: {}/{} files processed", processed.value(), total),
                    10, 10, TimeUnit.SECONDS);
        }

        @Override
        public void close() {
            timer.shutdownNow();
        }
    }

}
