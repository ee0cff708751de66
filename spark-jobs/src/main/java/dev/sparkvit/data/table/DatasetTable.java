package dev.sparkvit.data.table;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkvit.data.ingest.StoredImageSchema;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.OverwriteFiles;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.Transaction;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.hadoop.HadoopFileIO;
import org.apache.iceberg.hadoop.HadoopTables;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.spark.SparkSchemaUtil;
import org.apache.iceberg.types.Types;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The stored images of a dataset as an Iceberg table on a folder (local path or {@code hdfs://}; the Hadoop table
 * commits by an atomic rename of its next metadata file, which HDFS has).
 *
 * <p>One {@link #append} is one Iceberg transaction: Spark tasks write the rows' Parquet data files (invisible until
 * committed), then one commit adds them and sets the table properties {@value #CLASSES} (the class index, a JSON
 * array, position = label index) and {@value #MANIFEST} (the run's figures, a JSON object); the same two values go
 * into the new snapshot's summary, so an older snapshot still names the classes and figures of its own commit. A
 * failure before the commit leaves the table at its previous snapshot: the written files are never referenced, and
 * are deleted when the failure is an exception (a killed writer leaves them as invisible orphans).
 *
 * <p>Concurrency is optimistic and re-validated by sparkvit. Iceberg alone would rebase a transaction on newer
 * metadata and replay this writer's class index over another's (measured: two writers both given index 3 both
 * committed). So each attempt refreshes the table, checks that the writer's class index and the committed one agree
 * (one is a prefix of the other: every label index either used still names the same class; the longer is
 * committed), and commits the files as an overwrite that
 * removes nothing and fails validation when any data file was committed after the snapshot it checked. On that
 * failure it checks again against the newer snapshot: a writer that added no conflicting classes is committed on
 * top; one whose class index was overtaken fails with {@link ClassIndexConflictException} and changes nothing.
 */
public final class DatasetTable {
    /** Table property and snapshot summary key: the class index, a JSON array of class names. */
    public static final String CLASSES = "sparkvit.classes";
    /** Table property and snapshot summary key: the figures of the commit's run, a JSON object. */
    public static final String MANIFEST = "sparkvit.manifest";

    /** The Spark catalog Iceberg's data source loads path identifiers through. */
    static final String PATH_CATALOG = "spark.sql.catalog.default_iceberg";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int COMMIT_ATTEMPTS = 20;
    /** Data file size a write aims at unless the table sets {@code write.target-file-size-bytes}: 256 MiB. */
    public static final long TARGET_FILE_BYTES = 256L << 20;
    /**
     * Parquet row group size a write aims at unless the table sets {@code write.parquet.row-group-size-bytes}: 8 MiB.
     * A streamed training task holds its open row group's pixel chunk as one array (parquet-hadoop reads a row
     * group's chunks in one allocation): Iceberg's 128 MiB default, and 32 MiB (groups of ~40 MB measured), made
     * G1 fail humongous allocations in a 480 MiB heap.
     */
    public static final long ROW_GROUP_BYTES = 8L << 20;

    private final Table table;
    private final String location;
    /** Test hook: runs after the class check of each commit attempt, before the commit. */
    private Runnable afterCheck = () -> { };

    private DatasetTable(Table table, String location) {
        this.table = table;
        this.location = location;
    }

    /** Column naming which of the dataset's record kinds a row is: {@value #IMAGE}, {@value #QUARANTINED}, {@value #DUPLICATE}. */
    public static final String KIND = "kind";
    public static final String IMAGE = "image";
    public static final String QUARANTINED = "quarantine";
    public static final String DUPLICATE = "duplicate";

    /**
     * The table's rows: a {@value #KIND} column, then the columns of {@link StoredImageSchema#IMAGES},
     * {@link StoredImageSchema#QUARANTINE} and {@link StoredImageSchema#DUPLICATES} (each once, all nullable: a row
     * fills those of its kind). The three record kinds are one table so that one commit holds all of a run; every
     * data file holds one kind, so a read of one kind skips the others' files by their column bounds.
     */
    public static final StructType TABLE = tableSchema();

    private static StructType tableSchema() {
        StructType t = new StructType().add(KIND, DataTypes.StringType, false);
        for (StructType part : List.of(StoredImageSchema.IMAGES, StoredImageSchema.QUARANTINE,
                StoredImageSchema.DUPLICATES)) {
            for (StructField f : part.fields()) {
                if (!java.util.Arrays.asList(t.fieldNames()).contains(f.name())) {
                    t = t.add(f.name(), f.dataType(), true);
                }
            }
        }
        return t;
    }

    /** The Iceberg schema of {@link #TABLE}. */
    public static Schema schema() {
        return SparkSchemaUtil.convert(TABLE);
    }

    /** {@code rows} of one kind (schema {@code of}: a subset of {@link #TABLE}'s columns) as table rows. */
    static Dataset<Row> asTableRows(Dataset<Row> rows, String kind, StructType of) {
        if (!sameColumns(rows.schema(), of)) {
            throw new IllegalArgumentException(kind + " rows do not have the schema " + of.simpleString() + ": "
                    + rows.schema().simpleString());
        }
        List<Column> cols = new java.util.ArrayList<>();
        for (StructField f : TABLE.fields()) {
            cols.add(f.name().equals(KIND) ? functions.lit(kind).as(KIND)
                    : java.util.Arrays.asList(of.fieldNames()).contains(f.name()) ? functions.col(f.name())
                    : functions.lit(null).cast(f.dataType()).as(f.name()));
        }
        return rows.select(cols.toArray(new Column[0]));
    }

    /** Same column names and types in the same order (nullability aside). */
    private static boolean sameColumns(StructType a, StructType b) {
        if (a.fields().length != b.fields().length) {
            return false;
        }
        for (int i = 0; i < a.fields().length; i++) {
            if (!a.fields()[i].name().equals(b.fields()[i].name())
                    || !a.fields()[i].dataType().equals(b.fields()[i].dataType())) {
                return false;
            }
        }
        return true;
    }

    /** The rows of one kind in the columns of {@code of}. */
    static Dataset<Row> ofKind(Dataset<Row> table, String kind, StructType of) {
        return table.filter(functions.col(KIND).equalTo(kind)).select(java.util.Arrays.stream(of.fieldNames())
                .map(functions::col).toArray(Column[]::new));
    }

    /** What one commit adds: stored images, quarantined files and duplicates (each may be null: none). */
    public record Rows(Dataset<Row> images, Dataset<Row> quarantine, Dataset<Row> duplicates) {
    }

    /** Creates an empty table at {@code location} with an empty class index; fails when one exists there. */
    public static DatasetTable create(Configuration conf, String location) {
        Map<String, String> props = new LinkedHashMap<>();
        props.put(TableProperties.FORMAT_VERSION, "2");
        props.put(CLASSES, "[]");
        props.put(MANIFEST, "{}");
        return new DatasetTable(new HadoopTables(conf).create(schema(), PartitionSpec.unpartitioned(), props,
                location), location);
    }

    /** Opens the table at {@code location}. */
    public static DatasetTable open(Configuration conf, String location) {
        return new DatasetTable(new HadoopTables(conf).load(location), location);
    }

    /** For tests: {@code hook} runs after each attempt's class check and before its commit. */
    DatasetTable afterClassCheck(Runnable hook) {
        this.afterCheck = hook;
        return this;
    }

    public String location() {
        return location;
    }

    /** The Iceberg table (refreshed by {@link #refresh}). */
    public Table table() {
        return table;
    }

    public DatasetTable refresh() {
        table.refresh();
        return this;
    }

    /** The current snapshot's id, -1 before the first commit. */
    public long currentSnapshotId() {
        Snapshot s = table.currentSnapshot();
        return s == null ? -1 : s.snapshotId();
    }

    /** The committed class index (current table properties). */
    public List<String> classes() {
        return parseClasses(table.properties().get(CLASSES));
    }

    /** The committed figures (current table properties) as flat numbers. */
    public Map<String, Long> manifest() {
        return parseFigures(manifestJson());
    }

    /** The committed manifest (current table properties), a JSON object. */
    public String manifestJson() {
        return table.properties().getOrDefault(MANIFEST, "{}");
    }

    /** The class index committed with snapshot {@code snapshotId}. */
    public List<String> classes(long snapshotId) {
        return parseClasses(snapshot(snapshotId).summary().get(CLASSES));
    }

    /** The figures committed with snapshot {@code snapshotId}. */
    public Map<String, Long> manifest(long snapshotId) {
        return parseFigures(manifestJson(snapshotId));
    }

    /** The manifest committed with snapshot {@code snapshotId}, a JSON object. */
    public String manifestJson(long snapshotId) {
        return snapshot(snapshotId).summary().get(MANIFEST);
    }

    /** Whether {@code location} holds an Iceberg table (committed or not). */
    public static boolean exists(Configuration conf, String location) {
        try {
            org.apache.hadoop.fs.Path metadata = new org.apache.hadoop.fs.Path(location, "metadata");
            return metadata.getFileSystem(conf).exists(metadata) && new HadoopTables(conf).exists(location);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Snapshot snapshot(long snapshotId) {
        Snapshot s = table.snapshot(snapshotId);
        if (s == null) {
            throw new IllegalArgumentException("table " + location + " has no snapshot " + snapshotId);
        }
        return s;
    }

    /** The stored images of the current snapshot (schema {@link StoredImageSchema#IMAGES}, nullable), read by Spark. */
    public Dataset<Row> read(SparkSession spark) {
        return ofKind(all(spark), IMAGE, StoredImageSchema.IMAGES);
    }

    /** The stored images of snapshot {@code snapshotId} exactly (time travel), read by Spark. */
    public Dataset<Row> read(SparkSession spark, long snapshotId) {
        return ofKind(all(spark, snapshotId), IMAGE, StoredImageSchema.IMAGES);
    }

    /** The quarantined files of snapshot {@code snapshotId} (-1: none), schema {@link StoredImageSchema#QUARANTINE}. */
    public Dataset<Row> quarantine(SparkSession spark, long snapshotId) {
        return ofKind(all(spark, snapshotId), QUARANTINED, StoredImageSchema.QUARANTINE);
    }

    /** The duplicates of snapshot {@code snapshotId} (-1: none), schema {@link StoredImageSchema#DUPLICATES}. */
    public Dataset<Row> duplicates(SparkSession spark, long snapshotId) {
        return ofKind(all(spark, snapshotId), DUPLICATE, StoredImageSchema.DUPLICATES);
    }

    /** The images of snapshot {@code snapshotId}, or none when it is -1 (a table without commits). */
    public Dataset<Row> images(SparkSession spark, long snapshotId) {
        return ofKind(all(spark, snapshotId), IMAGE, StoredImageSchema.IMAGES);
    }

    private Dataset<Row> all(SparkSession spark) {
        pathCatalog(spark);
        return spark.read().format("iceberg").load(location);
    }

    private Dataset<Row> all(SparkSession spark, long snapshotId) {
        if (snapshotId < 0) {
            return spark.createDataFrame(List.<Row>of(), TABLE);
        }
        snapshot(snapshotId);
        pathCatalog(spark);
        return spark.read().format("iceberg").option("snapshot-id", snapshotId).load(location);
    }

    /**
     * Spark's {@code format("iceberg").load(path)} resolves the path through the session catalog
     * {@value #PATH_CATALOG}, which Iceberg 1.0 defaults to a Hive catalog (Hive is not on sparkvit's classpath:
     * NoClassDefFoundError for the metastore). A Hadoop catalog serves instead: a path identifier is loaded by
     * {@code HadoopTables} whatever the warehouse, set here to Spark's warehouse folder. Left alone when configured.
     */
    static void pathCatalog(SparkSession spark) {
        synchronized (SparkSession.class) {
            if (!spark.conf().contains(PATH_CATALOG)) {
                spark.conf().set(PATH_CATALOG + ".type", "hadoop");
                spark.conf().set(PATH_CATALOG + ".warehouse", spark.conf().get("spark.sql.warehouse.dir"));
                spark.conf().set(PATH_CATALOG + ".cache-enabled", "false");
                spark.conf().set(PATH_CATALOG, "org.apache.iceberg.spark.SparkCatalog");
            }
        }
    }

    /** Called after the data files are written and before the commit; a test hook (a writer dying there). */
    @FunctionalInterface
    public interface BeforeCommit {
        void run(List<DataFile> written) throws Exception;
    }

    /**
     * Writes {@code rows} (schema {@link StoredImageSchema#IMAGES}, label indexes into {@code classes}) and commits
     * them with {@code classes} and {@code figures} as one snapshot. Returns the new snapshot's id.
     *
     * @throws ClassIndexConflictException another writer committed a class index that {@code classes} does not
     *     extend; nothing committed
     */
    public long append(Dataset<Row> rows, List<String> classes, Map<String, Long> figures) {
        return append(rows, classes, figures, written -> { });
    }

    /** {@link #append(Dataset, List, Map)} with a hook run between writing the files and committing. */
    public long append(Dataset<Row> rows, List<String> classes, Map<String, Long> figures, BeforeCommit hook) {
        return append(new Rows(rows, null, null), classes, json(figures), -2, hook);
    }

    /**
     * Writes the images, quarantine and duplicate rows and commits them with {@code classes} and
     * {@code manifestJson} as one snapshot; returns its id.
     *
     * @param expectedBase the snapshot the caller computed {@code manifestJson} from: when the table moved past it
     *     (another writer committed), nothing is committed and {@link ClassIndexConflictException} names both; -2
     *     commits on top of any compatible snapshot (the class check alone)
     */
    public long append(Rows rows, List<String> classes, String manifestJson, long expectedBase, BeforeCommit hook) {
        if (rows.images() == null && rows.quarantine() == null && rows.duplicates() == null) {
            return commit(List.of(), classes, manifestJson, expectedBase, hook); // no rows: no Spark job
        }
        Dataset<Row> all = null;
        for (Dataset<Row> part : List.of(
                rows.images() == null ? empty() : asTableRows(rows.images(), IMAGE, StoredImageSchema.IMAGES),
                rows.quarantine() == null ? empty()
                        : asTableRows(rows.quarantine(), QUARANTINED, StoredImageSchema.QUARANTINE),
                rows.duplicates() == null ? empty()
                        : asTableRows(rows.duplicates(), DUPLICATE, StoredImageSchema.DUPLICATES))) {
            all = all == null ? part : all.union(part);
        }
        List<DataFile> files = write(all);
        try {
            return commit(files, classes, manifestJson, expectedBase, hook);
        } catch (CommitStateUnknownException e) {
            throw e; // the files may be committed: never delete them
        } catch (RuntimeException e) {
            for (DataFile f : files) { // not committed: nothing references them (best effort; kill -9 leaves them)
                try {
                    table.io().deleteFile(f.path().toString());
                } catch (RuntimeException ignored) {
                    // an orphan, invisible to readers
                }
            }
            throw e;
        }
    }

    private static Dataset<Row> empty() {
        return SparkSession.active().createDataFrame(List.<Row>of(), TABLE);
    }

    private long commit(List<DataFile> files, List<String> classes, String figuresJson, long expectedBase,
            BeforeCommit hook) {
        try {
            hook.run(files);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        for (int attempt = 1; ; attempt++) {
            table.refresh();
            List<String> committed = classes();
            long base = currentSnapshotId();
            if (expectedBase != -2 && base != expectedBase) {
                throw new ClassIndexConflictException("dataset table " + location + ": another writer committed "
                        + "snapshot " + base + " after this run read snapshot " + expectedBase + "; nothing committed, "
                        + "run again");
            }
            List<String> merged = merge(classes, committed);
            if (merged == null) {
                throw new ClassIndexConflictException("dataset table " + location + ": another writer committed "
                        + "class index " + committed + " (snapshot " + base + ") while this one assigned "
                        + classes + "; nothing committed, run again to index the new classes after the committed ones");
            }
            String classesJson = json(merged);
            afterCheck.run();
            try {
                Transaction txn = table.newTransaction();
                txn.updateProperties().set(CLASSES, classesJson).set(MANIFEST, figuresJson).commit();
                // An overwrite that removes nothing: an append that fails validation when any data file was
                // committed after `base` (here already, when the transaction starts from newer metadata, or when
                // Iceberg rebases it at commit), so the class check above and the commit are one compare-and-swap.
                OverwriteFiles add = txn.newOverwrite().conflictDetectionFilter(Expressions.alwaysTrue())
                        .validateNoConflictingData();
                if (base >= 0) {
                    add.validateFromSnapshot(base);
                }
                files.forEach(add::addFile);
                add.set(CLASSES, classesJson).set(MANIFEST, figuresJson).commit();
                txn.commitTransaction();
                long committedId = txn.table().currentSnapshot().snapshotId(); // not a later writer's
                table.refresh();
                return committedId;
            } catch (ValidationException | CommitFailedException e) {
                if (attempt >= COMMIT_ATTEMPTS) {
                    throw new IllegalStateException("dataset table " + location + ": commit failed " + attempt
                            + " times against concurrent writers; nothing committed", e);
                }
            }
        }
    }

    /**
     * The class index after committing a writer's rows on top of {@code committed}: the longer of the two when one
     * is a prefix of the other (every label index the writer used names the same class, and no committed index
     * moves), otherwise null (a conflict).
     */
    static List<String> merge(List<String> writer, List<String> committed) {
        List<String> shorter = writer.size() <= committed.size() ? writer : committed;
        List<String> longer = shorter == writer ? committed : writer;
        return longer.subList(0, shorter.size()).equals(shorter) ? List.copyOf(longer) : null;
    }

    /** Writes each partition of {@code rows} as one Parquet data file under the table's data folder; no commit. */
    /**
     * Writes each partition of {@code rows} as Parquet data files under the table's data folder, a new file when one
     * reaches the table's {@code write.target-file-size-bytes} ({@link #TARGET_FILE_BYTES} unless set), in row groups
     * of its {@code write.parquet.row-group-size-bytes} ({@link #ROW_GROUP_BYTES} unless set); no commit.
     */
    private List<DataFile> write(Dataset<Row> rows) {
        Schema schema = table.schema();
        PartitionSpec spec = table.spec();
        FileIO io = table.io();
        if (!(io instanceof HadoopFileIO)) {
            throw new IllegalStateException("expected a Hadoop file IO, got " + io.getClass().getName());
        }
        long target = Long.parseLong(table.properties().getOrDefault(TableProperties.WRITE_TARGET_FILE_SIZE_BYTES,
                String.valueOf(TARGET_FILE_BYTES)));
        String rowGroup = table.properties().getOrDefault(TableProperties.PARQUET_ROW_GROUP_SIZE_BYTES,
                String.valueOf(ROW_GROUP_BYTES));
        String prefix = table.locationProvider().newDataLocation(UUID.randomUUID().toString());
        FlatMapFunction<Iterator<Row>, DataFile> task = new WriteTask(schema, spec, io, prefix, target, rowGroup);
        return rows.toJavaRDD().mapPartitions(task).collect();
    }

    private static final class WriteTask implements FlatMapFunction<Iterator<Row>, DataFile> {
        private static final long serialVersionUID = 1L;
        private final Schema schema;
        private final PartitionSpec spec;
        private final FileIO io;
        private final String prefix;
        private final long targetBytes;
        private final String rowGroupBytes;

        WriteTask(Schema schema, PartitionSpec spec, FileIO io, String prefix, long targetBytes,
                String rowGroupBytes) {
            this.rowGroupBytes = rowGroupBytes;
            this.schema = schema;
            this.spec = spec;
            this.io = io;
            this.prefix = prefix;
            this.targetBytes = targetBytes;
        }

        private DataWriter<org.apache.iceberg.data.Record> open(int file) throws IOException {
            org.apache.spark.TaskContext tc = org.apache.spark.TaskContext.get();
            String path = prefix + "-" + tc.partitionId() + "-" + tc.attemptNumber() + "-" + file + ".parquet";
            return Parquet.writeData(io.newOutputFile(path)).schema(schema).withSpec(spec)
                    .set(TableProperties.PARQUET_ROW_GROUP_SIZE_BYTES, rowGroupBytes)
                    .createWriterFunc(GenericParquetWriter::buildWriter).overwrite().build();
        }

        @Override
        public Iterator<DataFile> call(Iterator<Row> rows) throws IOException {
            List<DataFile> done = new java.util.ArrayList<>();
            GenericRecord template = GenericRecord.create(schema);
            List<Types.NestedField> fields = schema.columns();
            DataWriter<org.apache.iceberg.data.Record> writer = null;
            try {
                while (rows.hasNext()) {
                    if (writer == null) {
                        writer = open(done.size());
                    }
                    Row row = rows.next();
                    GenericRecord rec = template.copy();
                    for (int i = 0; i < fields.size(); i++) {
                        Object v = row.get(i);
                        rec.set(i, v instanceof byte[] b ? ByteBuffer.wrap(b) : v);
                    }
                    writer.write(rec);
                    if (writer.length() >= targetBytes) {
                        writer.close();
                        done.add(writer.toDataFile());
                        writer = null;
                    }
                }
            } finally {
                if (writer != null) {
                    writer.close();
                }
            }
            if (writer != null) {
                done.add(writer.toDataFile());
            }
            return done.iterator();
        }
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> parseClasses(String json) {
        try {
            return json == null ? List.of() : JSON.readValue(json, new TypeReference<List<String>>() { });
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, Long> parseFigures(String json) {
        try {
            return json == null ? Map.of() : JSON.readValue(json, new TypeReference<LinkedHashMap<String, Long>>() { });
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
