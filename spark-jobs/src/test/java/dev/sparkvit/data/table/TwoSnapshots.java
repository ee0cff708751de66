package dev.sparkvit.data.table;

import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.testing.SharedSpark;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.functions;

/**
 * A dataset with two snapshots, for the tests of what a run reads: {@code first} holds 120 synthetic 16-px images
 * (12 per class), {@code second} 60 more (6 per class, other pictures) committed by an incremental ingest.
 */
public record TwoSnapshots(String dataset, long first, long second) {

    /** Ingests the first 120 images into {@code folder}/ds, then the 60 more. */
    public static TwoSnapshots ingest(Path folder) {
        Path raw = folder.resolve("raw");
        new SyntheticImageFolder(16, 12, 4).writeTo(raw);
        String dataset = folder.resolve("ds").toString();
        new IngestJob(IngestSettings.defaults(raw.toString(), dataset).withStoredSize(16))
                .execute(SharedSpark.session());
        return more(folder, dataset);
    }

    /** Commits 60 more images (from {@code folder}/more) to {@code dataset} on top of its current snapshot. */
    public static TwoSnapshots more(Path folder, String dataset) {
        long first = current(dataset);
        Path more = folder.resolve("more");
        new SyntheticImageFolder(16, 6, 99).writeTo(more);
        new IngestJob(IngestSettings.defaults(more.toString(), dataset).withStoredSize(16).withIncremental(true))
                .execute(SharedSpark.session());
        return new TwoSnapshots(dataset, first, current(dataset));
    }

    /** The dataset's current snapshot id. */
    public static long current(String dataset) {
        return DatasetTable.open(new Configuration(), dataset).currentSnapshotId();
    }

    /** The images of {@code split} in {@code snapshot}, read by the table alone. */
    public long count(long snapshot, String split) {
        return DatasetTable.open(new Configuration(), dataset).read(SharedSpark.session(), snapshot)
                .filter(functions.col("split").equalTo(split)).count();
    }
}
