package dev.sparkvit.data.stream;

import dev.sparkvit.data.ingest.DatasetSnapshot;
import dev.sparkvit.data.ingest.HadoopConf;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.data.table.DatasetTable;
import dev.sparkvit.engine.EpochSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The stored images of one split of a dataset snapshot, streamed from the table's data files (the training input
 * {@code data.input: stream}): an {@link EpochSource} whose partition p of P reads, each epoch, its contiguous share
 * of the files in a permuted order ({@link EpochLayout}) through a shuffle buffer ({@link StreamCursor}). The driver
 * learns the files from the snapshot's Iceberg metadata and their rows per row group from one Spark job that reads
 * every file's small columns (never the pixels, never a row on the driver).
 *
 * <p>Each executor keeps its partitions' open streams between the tasks of consecutive segments (one per partition:
 * the next segment continues reading where the last stopped); a stream that is not there, or is at another position,
 * is replayed to the position ({@link StreamCursor#seekTo}), so the sequence never depends on where tasks ran.
 */
public final class StreamedImages implements EpochSource<Row> {
    private static final long serialVersionUID = 1L;

    private final StreamPlan plan;
    private final JavaRDD<Integer> partitions;
    private final long size;
    private final String id = UUID.randomUUID().toString();

    /** What every task reads (for tests of the cursors). */
    StreamPlan plan() {
        return plan;
    }

    private StreamedImages(StreamPlan plan, JavaRDD<Integer> partitions) {
        this.plan = plan;
        this.partitions = partitions;
        this.size = plan.rows();
    }

    /**
     * The rows of {@code split} in {@code snapshot} that {@code filter} keeps, as {@code columns}, in
     * {@code partitionCount} partitions.
     *
     * @param bufferRows the shuffle buffer's rows per partition
     * @param window the positions behind the newest a sample may read (a micro-batch chunk's mixing partners); 1
     *     when samples read their own row only
     */
    public static StreamedImages of(SparkSession spark, DatasetSnapshot snapshot, String split, String[] columns,
            RowFilter filter, int partitionCount, int bufferRows, int window, long seed) {
        HadoopConf conf = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        List<String> paths = dataFiles(conf, snapshot);
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<DataFileRows> files = paths.isEmpty() ? List.of() : sc.parallelize(paths, Math.min(paths.size(),
                Math.max(1, sc.defaultParallelism() * 4))).map(path -> {
                    try (StoredRowReader reader = new StoredRowReader(conf.get(), path, columns, split, filter,
                            false)) {
                        return new DataFileRows(path, reader.countPerGroup());
                    }
                }).collect();
        List<DataFileRows> counted = new ArrayList<>(files);
        counted.removeIf(f -> f.rows() == 0);
        counted.sort(Comparator.comparing(DataFileRows::path)); // the epoch permutations start from one order
        StreamPlan plan = new StreamPlan(List.copyOf(counted), columns.clone(), split, filter, conf, seed, bufferRows,
                window);
        JavaRDD<Integer> parts = sc.parallelize(IntStream.range(0, partitionCount).boxed().toList(), partitionCount);
        return new StreamedImages(plan, parts);
    }

    /** The snapshot's image data files, from its Iceberg metadata (O(files) on the driver). */
    private static List<String> dataFiles(HadoopConf conf, DatasetSnapshot snapshot) {
        DatasetTable table = StoredImages.table("dataset", snapshot.dataset(), conf.get());
        List<String> paths = new ArrayList<>();
        try (CloseableIterable<FileScanTask> tasks = table.table().newScan().useSnapshot(snapshot.id())
                .filter(Expressions.equal(DatasetTable.KIND, DatasetTable.IMAGE)).planFiles()) {
            for (FileScanTask task : tasks) {
                if (!task.deletes().isEmpty()) {
                    throw new IllegalArgumentException("dataset " + snapshot + " has row-level deletes, which "
                            + "data.input: stream does not read; set data.input: memory");
                }
                paths.add(task.file().path().toString());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the data files of dataset " + snapshot, e);
        }
        return paths;
    }

    @Override
    public RDD<?> origin() {
        return partitions.rdd();
    }

    @Override
    public long size() {
        return size;
    }

    /** The data files the stream reads. */
    public int files() {
        return plan.files().size();
    }

    /** Closes the open streams this JVM keeps between segments (their rows released). */
    public static void clear() {
        Cursors.clear();
    }

    @Override
    public <T> JavaRDD<T> perPartition(int epoch, PartitionFunction<Row, T> f) {
        StreamPlan p = plan;
        String source = id;
        int count = partitions.getNumPartitions();
        return partitions.mapPartitionsWithIndex((index, ignored) -> f.apply(index, Cursors.take(p, source, epoch,
                count, index)), true);
    }

    /** The open streams of this executor, one per partition index, lent to one task at a time. */
    static final class Cursors {
        private static final java.util.concurrent.ConcurrentHashMap<Integer, StreamCursor> BY_PARTITION =
                new java.util.concurrent.ConcurrentHashMap<>();

        private Cursors() {
        }

        /** The kept stream of (source, epoch, partition), or a new one; given back when the task succeeds. */
        static StreamCursor take(StreamPlan plan, String source, int epoch, int partitions, int partition) {
            StreamCursor kept = BY_PARTITION.remove(partition);
            if (kept != null && !kept.serves(source, epoch)) {
                kept.close();
                kept = null;
            }
            StreamCursor cursor = kept != null ? kept : new StreamCursor(plan, source, epoch, partitions, partition);
            TaskContext task = TaskContext.get();
            if (task == null) {
                return cursor;
            }
            boolean[] failed = {false};
            task.addTaskFailureListener((org.apache.spark.util.TaskFailureListener) (context, error) -> failed[0] = true);
            task.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) context -> {
                if (failed[0] || context.isInterrupted()) {
                    cursor.close();
                } else {
                    StreamCursor replaced = BY_PARTITION.put(partition, cursor);
                    if (replaced != null && replaced != cursor) {
                        replaced.close();
                    }
                }
            });
            return cursor;
        }

        /** Closes every kept stream (their rows are released). */
        static void clear() {
            BY_PARTITION.values().removeIf(c -> {
                c.close();
                return true;
            });
        }
    }
}
