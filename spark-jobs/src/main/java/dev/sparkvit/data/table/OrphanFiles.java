package dev.sparkvit.data.table;

import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.actions.DeleteOrphanFiles;
import org.apache.iceberg.spark.actions.SparkActions;
import org.apache.spark.sql.SparkSession;

/**
 * Removes the data files no snapshot of a dataset's table references: what a writer killed after writing its files
 * and before its commit leaves in {@code data/} (Iceberg's {@code DeleteOrphanFiles} action, restricted to the data
 * folder, so the lock file, the metadata and anything else in the dataset folder are never touched). Run by a writer
 * that holds the dataset's lock, and only on files older than a margin: a file younger than it may belong to a writer
 * whose lease just lapsed and which has not yet learnt it lost the lock.
 */
public final class OrphanFiles {
    private OrphanFiles() {
    }

    /** Removes the unreferenced files under {@code data/} last modified before {@code olderThanMillis}; their paths. */
    public static List<String> remove(SparkSession spark, DatasetTable table, long olderThanMillis) {
        if (table.currentSnapshotId() < 0) {
            return List.of(); // no commit yet: the table's data folder holds only a killed first run's files, which
            // the run that commits first supersedes; nothing references anything, so nothing is judged
        }
        DeleteOrphanFiles.Result result = SparkActions.get(spark).deleteOrphanFiles(table.table())
                .location(table.location() + "/data").olderThan(olderThanMillis).execute();
        List<String> removed = new ArrayList<>();
        result.orphanFileLocations().forEach(removed::add);
        return removed;
    }
}
