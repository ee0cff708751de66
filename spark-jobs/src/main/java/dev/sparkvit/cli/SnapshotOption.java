package dev.sparkvit.cli;

import dev.sparkvit.data.ingest.StoredImages;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import picocli.CommandLine.Option;

/**
 * {@code --snapshot ID} or {@code --as-of TIME} of the commands that read a dataset: which snapshot of its table,
 * exactly ({@code sparkvit snapshots} lists them).
 */
final class SnapshotOption {
    @Option(names = "--snapshot", paramLabel = "ID", description = "Read this snapshot of the dataset's table "
            + "(default: the current one; a resumed run: the one its checkpoints record).")
    Long snapshot;

    @Option(names = "--as-of", paramLabel = "TIME", description = "Read the snapshot that was current at TIME, an "
            + "ISO-8601 instant such as 2026-12-08T01:30:00Z (instead of --snapshot).")
    String asOf;

    /**
     * The snapshot id asked for, or null for the default: {@code --snapshot} as given, {@code --as-of} resolved
     * against the table of {@code dataset}.
     *
     * @throws IllegalArgumentException (exit 2) for both options at once, a time that does not parse, or a time
     *     before the table's first snapshot
     */
    Long id(String dataset) {
        if (asOf == null) {
            return snapshot;
        }
        if (snapshot != null) {
            throw new IllegalArgumentException("--snapshot " + snapshot + " and --as-of " + asOf + " both choose a "
                    + "snapshot: give one");
        }
        Instant time;
        try {
            time = Instant.parse(asOf);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("--as-of " + asOf + " is not an ISO-8601 instant such as "
                    + "2026-12-08T01:30:00Z");
        }
        return StoredImages.snapshotLog("dataset", dataset, SparkCommand.hadoopConfiguration()).asOf(time, dataset);
    }
}
