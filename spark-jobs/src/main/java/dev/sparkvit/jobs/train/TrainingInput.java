package dev.sparkvit.jobs.train;

import dev.sparkvit.config.ConfigSection;
import dev.sparkvit.data.ingest.DatasetSnapshot;
import dev.sparkvit.data.stream.RowFilter;
import dev.sparkvit.data.stream.StreamedImages;
import dev.sparkvit.engine.CachedPartitions;
import dev.sparkvit.engine.EpochSource;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Where a training job's epochs read the train split from ({@code data.input}, {@code data.shuffle_buffer}; both
 * jobs): {@code memory} caches each barrier task's share in the executors' memory (spilling to disk), permuted each
 * epoch; {@code stream} reads the snapshot's data files every epoch through a shuffle buffer of
 * {@code shuffle_buffer} rows per task ({@link StreamedImages}), for datasets larger than the executors' heaps.
 */
public record TrainingInput(String kind, int shuffleBuffer) {
    public static final String MEMORY = "memory";
    public static final String STREAM = "stream";
    /** The fingerprint's key of a streamed run (absent: memory). */
    public static final String KEY = "data_input";

    /** Reads {@code input} and {@code shuffle_buffer} of the {@code data} section. */
    public static TrainingInput read(ConfigSection data) {
        return new TrainingInput(data.choice("input", MEMORY, MEMORY, STREAM),
                data.integer("shuffle_buffer", 1024, 1, 1 << 24));
    }

    public boolean streamed() {
        return kind.equals(STREAM);
    }

    /**
     * The keys a resumed run must keep (the order of the samples depends on them): none for memory, whose runs
     * predate the key, so their checkpoints still resume.
     */
    public Map<String, String> fingerprint() {
        return streamed() ? Map.of(KEY, STREAM + ", shuffle_buffer " + shuffleBuffer) : Map.of();
    }

    /**
     * The train rows ({@code columns}) that {@code filter} keeps, in {@code partitions} partitions: streamed from
     * {@code snapshot}, or {@code cached} (the same rows, as Spark reads them) held in memory.
     *
     * @param window positions behind the newest a sample reads (the mixing chunk), 1 without mixing
     */
    public EpochSource<Row> source(SparkSession spark, DatasetSnapshot snapshot, String[] columns, RowFilter filter,
            int partitions, int window, long seed, Supplier<JavaRDD<Row>> cached) {
        return streamed() ? StreamedImages.of(spark, snapshot, "train", columns, filter, partitions, shuffleBuffer,
                window, seed) : new CachedPartitions<>(cached.get(), partitions, seed);
    }
}
