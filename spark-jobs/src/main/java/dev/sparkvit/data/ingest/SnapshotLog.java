package dev.sparkvit.data.ingest;

import dev.sparkvit.data.table.DatasetTable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.HistoryEntry;
import org.apache.iceberg.Snapshot;

/**
 * The snapshots a dataset's table went through, in the order they became current (Iceberg's snapshot log): what
 * {@code sparkvit snapshots} lists and what {@code --as-of TIME} resolves against. Expired snapshots are not in it.
 */
public final class SnapshotLog {
    /**
     * One snapshot as it became current: its id, when, Iceberg's operation, and the images its manifest counts (-1
     * when it records none).
     */
    public record Entry(long id, Instant committed, String operation, long images) {
    }

    private final List<Entry> entries;
    private final long current;

    private SnapshotLog(List<Entry> entries, long current) {
        this.entries = List.copyOf(entries);
        this.current = current;
    }

    public static SnapshotLog of(DatasetTable table) {
        List<Entry> entries = new ArrayList<>();
        for (HistoryEntry made : table.table().history()) {
            Snapshot snapshot = table.table().snapshot(made.snapshotId());
            if (snapshot == null) { // expired since
                continue;
            }
            entries.add(new Entry(made.snapshotId(), Instant.ofEpochMilli(made.timestampMillis()),
                    snapshot.operation(), images(table.manifestJson(made.snapshotId()))));
        }
        return new SnapshotLog(entries, table.currentSnapshotId());
    }

    private static long images(String manifest) {
        if (manifest == null) {
            return -1;
        }
        try {
            return DatasetFiles.manifest(manifest).images();
        } catch (java.io.IOException e) {
            return -1; // a manifest that does not read: the list still shows the snapshot
        }
    }

    /** Oldest first. */
    public List<Entry> entries() {
        return entries;
    }

    /** The current snapshot's id, -1 before the first commit. */
    public long current() {
        return current;
    }

    /**
     * The snapshot that was current at {@code time}: the last one to become current at or before it.
     *
     * @throws IllegalArgumentException naming the time and the first commit when the table had none yet
     */
    public long asOf(Instant time, String dataset) {
        Entry found = null;
        for (Entry entry : entries) {
            if (!entry.committed().isAfter(time)) {
                found = entry;
            }
        }
        if (found == null) {
            throw new IllegalArgumentException("dataset " + dataset + " had no snapshot at " + time
                    + (entries.isEmpty() ? " (it has none)" : " (its first is from " + entries.get(0).committed()
                            + ")"));
        }
        return found.id();
    }
}
