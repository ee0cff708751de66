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
import dev.sparkvit.lock.FolderLock;
import dev.sparkvit.lock.LockHeldException;
import dev.sparkvit.lock.LockSubject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
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
import org.apache.spark.sql.SaveMode;
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
 * groups ({@code ingest:list}, {@code ingest:decode}, {@code ingest:write}, {@code ingest:manifest}).
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
     * Runs right after the new shards are committed, before anything else is written; tests replace it with one that
     * throws, to leave the dataset as a run killed at that moment would.
     */
    static volatile Runnable afterShards = () -> { };

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
        if (output != null && !settings.incremental() && java.nio.file.Files.isDirectory(output)) {
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
        if (output != null && settings.incremental() && java.nio.file.Files.isDirectory(output)
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
        boolean existing = dataset.exists(StoredImageSchema.IMAGES_DIR) || dataset.exists(StoredImageSchema.MANIFEST_FILE);
        if (existing && !settings.incremental()) {
            throw new IllegalArgumentException("output " + settings.output() + " already holds a dataset; use "
                    + "--incremental to add new files to it, or choose a new output folder");
        }
        String root = qualifiedRoot(hadoop);
        Decoders.configured(); // a bad sparkvit.decoders setting fails here, before any Spark work
        // under the lock, before anything new is read: a dataset an interrupted run left between two states is
        // repaired by this run's manifest (recomputed from the stored rows); damaged class indexes stop it here
        String between = existing ? DatasetRepair.inspect(spark, dataset, settings.output(), dataset.readClasses())
                : null;

        sc.setJobGroup("ingest:list", "list input files under " + settings.input(), false);
        List<Row> files = listFiles(hadoop);
        long inputFiles = files.size();
        if (inputFiles == 0) {
            // an empty dataset with mean and std 0 was written, and the command ended with exit code 0
            throw new IllegalArgumentException("input " + settings.input() + " holds no files: nothing to ingest");
        }
        // At least four tasks per core, and no more than FILES_PER_TASK files in one task.
        int tasks = (int) Math.max(1, Math.min(files.size(),
                Math.max(4L * sc.defaultParallelism(), files.size() / FILES_PER_TASK + 1)));
        Dataset<Row> listing = spark.createDataFrame(sc.parallelize(files, tasks), new StructType()
                .add("path", DataTypes.StringType, false).add("length", DataTypes.LongType, false));
        LOG.info("stage list: {} files under {}", inputFiles, root);

        Set<String> known = existing ? knownHashes(spark, dataset) : Set.of();
        Broadcast<Set<String>> knownBroadcast = sc.broadcast(known);
        LongAccumulator processed = sc.sc().longAccumulator("ingest.files");
        // Broadcast, not captured: a captured Hadoop configuration (about 1,000 properties) was serialized into every
        // stage reading the outcomes' lineage and read back in every task, about 0.15 s of CPU per ingest.
        Broadcast<FileProcessor> processor =
                sc.broadcast(new FileProcessor(new HadoopConf(hadoop), settings, Set.of()));
        boolean labelled = settings.labelled();
        double train = settings.trainFraction();
        double val = settings.valFraction();

        sc.setJobGroup("ingest:decode", "read, validate, decode and resize " + inputFiles + " files", false);
        JavaRDD<Row> outcomeRows = listing.javaRDD().mapPartitions((FlatMapFunction<Iterator<Row>, Row>) rows ->
                outcomes(rows, processor.value().withKnownHashes(knownBroadcast.value()), root, labelled, train, val,
                        processed));
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
        List<String> classes = dataset.readClasses();
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
            if (labelled && (!newLabels.isEmpty() || !dataset.exists(StoredImageSchema.CLASSES_FILE))) {
                // the class index first: no committed row may ever name an index classes.json does not hold (new
                // classes are appended, so the indexes of stored rows stay valid if this run dies after it)
                lock.ensureHeld();
                dataset.writeClasses(classes);
            }
            IngestResult result = write(spark, sc, dataset, settings, root, inputFiles, counted, storedCount,
                    classes, stored, quarantine, duplicates, outcomes, ranks, lock);
            if (between != null) {
                say.accept("repaired dataset " + settings.output() + ", left between two states by an interrupted "
                        + "run (" + between + "): " + StoredImageSchema.MANIFEST_FILE + " recomputed from the stored "
                        + "rows (" + result.manifest().images() + " images)");
            }
            return result;
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

    private static IngestResult write(SparkSession spark, JavaSparkContext sc, DatasetFiles dataset,
            IngestSettings settings, String root, long inputFiles, StatusCounts counted, long storedCount,
            List<String> classes, Dataset<Row> stored, Dataset<Row> quarantine, Dataset<Row> duplicates,
            Dataset<Row> outcomes, Dataset<Row> ranks, FolderLock lock) throws IOException {
        sc.setJobGroup("ingest:write", "write Parquet shards, quarantine and duplicates", false);
        long duplicateCount = counted.decoded() - storedCount;
        long quarantinedCount = counted.rejected();
        long presentCount = counted.present();
        // Only non-empty tables are appended, so a run that finds nothing new writes nothing.
        lock.ensureHeld();
        if (storedCount > 0) {
            stored.repartition(settings.shards()).write().mode(SaveMode.Append)
                    .parquet(dataset.resolve(StoredImageSchema.IMAGES_DIR).toString());
            afterShards.run();
        }
        if (quarantinedCount > 0) {
            quarantine.coalesce(1).write().mode(SaveMode.Append)
                    .parquet(dataset.resolve(StoredImageSchema.QUARANTINE_DIR).toString());
        }
        if (duplicateCount > 0) {
            duplicates.coalesce(1).write().mode(SaveMode.Append)
                    .parquet(dataset.resolve(StoredImageSchema.DUPLICATES_DIR).toString());
        }
        Map<String, Long> rejects = counted.rejectsByReason();
        outcomes.unpersist();
        ranks.unpersist();

        long accounted = storedCount + duplicateCount + quarantinedCount + presentCount;
        if (accounted != inputFiles) {
            throw new IllegalStateException("ingest lost track of files: " + inputFiles + " listed but " + accounted
                    + " accounted for (stored " + storedCount + ", duplicates " + duplicateCount + ", quarantined "
                    + quarantinedCount + ", already present " + presentCount + ")");
        }
        LOG.info("stage write: {} stored, {} duplicates, {} quarantined {}, {} already present", storedCount,
                duplicateCount, quarantinedCount, rejects, presentCount);

        sc.setJobGroup("ingest:manifest", "recompute dataset statistics", false);
        Manifest manifest = ManifestBuilder.build(spark, dataset, settings, classes,
                new Manifest.LastRun(root, settings.incremental(), inputFiles, storedCount, duplicateCount,
                        quarantinedCount, presentCount, rejects));
        lock.ensureHeld();
        dataset.writeManifest(manifest);
        LOG.info("stage manifest: {} images in the dataset, channel mean {} std {}", manifest.images(),
                java.util.Arrays.toString(manifest.channelMean()), java.util.Arrays.toString(manifest.channelStd()));
        return new IngestResult(inputFiles, storedCount, duplicateCount, quarantinedCount, presentCount, rejects,
                manifest);
    }

    /** (path, length) of every file under the input root, recursively, in path order. */
    private List<Row> listFiles(Configuration hadoop) throws IOException {
        List<Row> files = new ArrayList<>();
        for (RawImages.Listed file : RawImages.list(hadoop, settings.input())) {
            files.add(RowFactory.create(file.path(), file.length()));
        }
        return files;
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
                FileProcessor.Outcome o = labelled && label == null
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

    /**
     * Hashes of every file the dataset has already stored, quarantined (except {@code retry_later}: decoding ran out of
     * memory) or recorded as a duplicate, plus the paths
     * ({@link FileProcessor#pathKey}) of quarantined files that could not be hashed (unreadable, too large).
     */
    private static Set<String> knownHashes(SparkSession spark, DatasetFiles dataset) throws IOException {
        Set<String> known = new HashSet<>();
        Map<String, StructType> tables = Map.of(StoredImageSchema.IMAGES_DIR, StoredImageSchema.IMAGES,
                StoredImageSchema.QUARANTINE_DIR, StoredImageSchema.QUARANTINE, StoredImageSchema.DUPLICATES_DIR,
                StoredImageSchema.DUPLICATES);
        for (Map.Entry<String, StructType> table : tables.entrySet()) {
            if (dataset.exists(table.getKey())) {
                Dataset<Row> rows = spark.read().schema(table.getValue()).parquet(dataset.resolve(table.getKey())
                        .toString());
                if (table.getKey().equals(StoredImageSchema.QUARANTINE_DIR)) {
                    // a file that ran out of memory while decoding is no known verdict: the next run tries it again
                    rows = rows.filter(col("reason").isNull().or(col("reason").notEqual(
                            RejectReason.RETRY_LATER.label())));
                }
                for (Row r : rows.select("hash", "source_path").collectAsList()) {
                    known.add(r.isNullAt(0) ? FileProcessor.pathKey(r.getString(1)) : r.getString(0));
                }
            }
        }
        return known;
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
