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

    private final Table table;
    private final String location;
    /** Test hook: runs after the class check of each commit attempt, before the commit. */
    private Runnable afterCheck = () -> { };

    private DatasetTable(Table table, String location) {
        this.table = table;
        this.location = location;
    }

    /** The Iceberg schema of {@link StoredImageSchema#IMAGES} (non-nullable fields are required). */
    public static Schema schema() {
        return SparkSchemaUtil.convert(StoredImageSchema.IMAGES);
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

    /** The committed figures (current table properties). */
    public Map<String, Long> manifest() {
        return parseFigures(table.properties().get(MANIFEST));
    }

    /** The class index committed with snapshot {@code snapshotId}. */
    public List<String> classes(long snapshotId) {
        return parseClasses(snapshot(snapshotId).summary().get(CLASSES));
    }

    /** The figures committed with snapshot {@code snapshotId}. */
    public Map<String, Long> manifest(long snapshotId) {
        return parseFigures(snapshot(snapshotId).summary().get(MANIFEST));
    }

    private Snapshot snapshot(long snapshotId) {
        Snapshot s = table.snapshot(snapshotId);
        if (s == null) {
            throw new IllegalArgumentException("table " + location + " has no snapshot " + snapshotId);
        }
        return s;
    }

    /** The rows of the current snapshot, read by Spark. */
    public Dataset<Row> read(SparkSession spark) {
        pathCatalog(spark);
        return spark.read().format("iceberg").load(location);
    }

    /** The rows of snapshot {@code snapshotId} exactly (time travel), read by Spark. */
    public Dataset<Row> read(SparkSession spark, long snapshotId) {
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
        if (!rows.schema().equals(StoredImageSchema.IMAGES)) {
            throw new IllegalArgumentException("rows do not have the stored-image schema: " + rows.schema()
                    .simpleString());
        }
        List<DataFile> files = write(rows);
        try {
            return commit(files, classes, figures, hook);
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

    private long commit(List<DataFile> files, List<String> classes, Map<String, Long> figures, BeforeCommit hook) {
        try {
            hook.run(files);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        String figuresJson = json(figures);
        for (int attempt = 1; ; attempt++) {
            table.refresh();
            List<String> committed = classes();
            long base = currentSnapshotId();
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
    private List<DataFile> write(Dataset<Row> rows) {
        Schema schema = table.schema();
        PartitionSpec spec = table.spec();
        FileIO io = table.io();
        if (!(io instanceof HadoopFileIO)) {
            throw new IllegalStateException("expected a Hadoop file IO, got " + io.getClass().getName());
        }
        String prefix = table.locationProvider().newDataLocation(UUID.randomUUID().toString());
        FlatMapFunction<Iterator<Row>, DataFile> task = new WriteTask(schema, spec, io, prefix);
        return rows.toJavaRDD().mapPartitions(task).collect();
    }

    private static final class WriteTask implements FlatMapFunction<Iterator<Row>, DataFile> {
        private static final long serialVersionUID = 1L;
        private final Schema schema;
        private final PartitionSpec spec;
        private final FileIO io;
        private final String prefix;

        WriteTask(Schema schema, PartitionSpec spec, FileIO io, String prefix) {
            this.schema = schema;
            this.spec = spec;
            this.io = io;
            this.prefix = prefix;
        }

        @Override
        public Iterator<DataFile> call(Iterator<Row> rows) throws IOException {
            if (!rows.hasNext()) {
                return Collections.emptyIterator();
            }
            org.apache.spark.TaskContext tc = org.apache.spark.TaskContext.get();
            String path = prefix + "-" + tc.partitionId() + "-" + tc.attemptNumber() + ".parquet";
            DataWriter<org.apache.iceberg.data.Record> writer = Parquet.writeData(io.newOutputFile(path))
                    .schema(schema).withSpec(spec).createWriterFunc(GenericParquetWriter::buildWriter).overwrite()
                    .build();
            GenericRecord template = GenericRecord.create(schema);
            List<Types.NestedField> fields = schema.columns();
            try (writer) {
                while (rows.hasNext()) {
                    Row row = rows.next();
                    GenericRecord rec = template.copy();
                    for (int i = 0; i < fields.size(); i++) {
                        Object v = row.get(i);
                        rec.set(i, v instanceof byte[] b ? ByteBuffer.wrap(b) : v);
                    }
                    writer.write(rec);
                }
            }
            return List.of(writer.toDataFile()).iterator();
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
