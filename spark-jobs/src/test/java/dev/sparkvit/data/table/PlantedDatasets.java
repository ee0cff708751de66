package dev.sparkvit.data.table;

import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;

/** Tests' datasets without rows: a table whose one commit holds a given manifest and class index (no Spark). */
public final class PlantedDatasets {
    private PlantedDatasets() {
    }

    /** A dataset table at {@code dir} committed once with {@code manifestJson} and {@code classes}, no rows. */
    public static Path plant(Path dir, String manifestJson, List<String> classes) {
        DatasetTable t = DatasetTable.create(new Configuration(), dir.toString());
        t.append(new DatasetTable.Rows(null, null, null), classes, manifestJson, -1, written -> { });
        return dir;
    }
}
