package dev.sparkvit.data.ingest;

import dev.sparkvit.data.table.DatasetTable;
import dev.sparkvit.testing.SharedSpark;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** What tests read of a dataset's table: its current snapshot's rows of each kind, class index and manifest. */
final class StoredTables {
    private StoredTables() {
    }

    static DatasetTable table(Object dataset, Configuration conf) {
        return DatasetTable.open(conf, dataset.toString());
    }

    static DatasetTable table(Object dataset) {
        return table(dataset, new Configuration());
    }

    static Dataset<Row> images(Object dataset) {
        DatasetTable t = table(dataset);
        return t.images(SharedSpark.session(), t.currentSnapshotId());
    }

    static Dataset<Row> quarantine(Object dataset) {
        DatasetTable t = table(dataset);
        return t.quarantine(SharedSpark.session(), t.currentSnapshotId());
    }

    static Dataset<Row> duplicates(Object dataset) {
        DatasetTable t = table(dataset);
        return t.duplicates(SharedSpark.session(), t.currentSnapshotId());
    }

    static List<String> classes(Object dataset) {
        return table(dataset).classes();
    }

    static Manifest manifest(Object dataset) {
        return manifest(dataset, new Configuration());
    }

    static Manifest manifest(Object dataset, Configuration conf) {
        try {
            return DatasetFiles.manifest(table(dataset, conf).manifestJson());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The current snapshot's id, -1 when nothing is committed. */
    static long snapshot(Object dataset) {
        return table(dataset).currentSnapshotId();
    }
}
