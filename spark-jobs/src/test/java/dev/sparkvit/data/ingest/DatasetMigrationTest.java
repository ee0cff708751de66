package dev.sparkvit.data.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.testing.SharedSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A dataset of the folder format (before issue 22: Parquet folders, classes.json, manifest.json) is refused by ingest
 * and the readers with one line naming {@code sparkvit migrate} (exit 2 from the CLI: MigrateCommandTest), and migrated by it into the table in one
 * commit: the same rows, class index, manifest, quarantine and duplicates; a damaged one is refused and left as it was.
 */
@ExtendWith(SharedSpark.class)
class DatasetMigrationTest {

    /**
     * Ingests {@code raw} into a table at {@code table}, then writes it in the folder format at {@code legacy}, with
     * {@code classes} as classes.json (null: the table's).
     */
    private static void legacy(Path raw, Path table, Path legacy, List<String> classes) throws IOException {
        new IngestJob(IngestSettings.defaults(raw.toString(), table.toString()).withStoredSize(8))
                .execute(SharedSpark.session());
        SparkSession spark = SharedSpark.session();
        StoredTables.images(table).write().parquet(legacy.resolve(StoredImageSchema.IMAGES_DIR).toString());
        StoredTables.quarantine(table).write().parquet(legacy.resolve(StoredImageSchema.QUARANTINE_DIR).toString());
        StoredTables.duplicates(table).write().parquet(legacy.resolve(StoredImageSchema.DUPLICATES_DIR).toString());
        DatasetFiles files = new DatasetFiles(legacy.toString(), spark.sparkContext().hadoopConfiguration());
        files.writeClasses(classes == null ? StoredTables.classes(table) : classes);
        files.writeManifest(StoredTables.manifest(table));
    }

    /** id -> "label label_index split pixels" of every stored image. */
    private static Map<String, String> contents(Dataset<Row> images) {
        Map<String, String> out = new TreeMap<>();
        for (Row r : images.collectAsList()) {
            out.put(r.getString(0), r.getString(1) + " " + r.getInt(2) + " " + r.getString(3) + " "
                    + Arrays.hashCode((byte[]) r.get(7)) + " " + r.getString(8));
        }
        return out;
    }

    private static void plant(Path raw) throws IOException {
        new SyntheticImageFolder(12, 2, 3).writeTo(raw);
        BadFiles.write(raw.resolve("disc/broken.png"), "not an image".getBytes());
        Files.copy(raw.resolve("disc/disc_00000.png"), raw.resolve("disc/copy.png"));
    }

    @Test
    void aFolderFormatDatasetIsRefusedNamingMigrateAndMigratedInOneCommit(@TempDir Path tmp) throws IOException {
        Path raw = tmp.resolve("raw");
        plant(raw);
        Path table = tmp.resolve("table");
        Path old = tmp.resolve("old");
        legacy(raw, table, old, null);
        String line = "dataset " + old + " is in the folder format of an earlier sparkvit (manifest.json, images/); "
                + "migrate it once into a table with: sparkvit migrate --dataset " + old;

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new IngestJob(
                IngestSettings.defaults(raw.toString(), old.toString()).withIncremental(true))
                .execute(SharedSpark.session()));
        assertEquals(line, e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> StoredImages.read(SharedSpark.session(),
                old.toString(), null));
        assertEquals(line, e.getMessage());
        assertTrue(StoredImages.datasetProblem(old.toString()).endsWith("sparkvit migrate --dataset " + old));

        List<String> said = new ArrayList<>();
        long images = DatasetMigration.migrate(SharedSpark.session(), old.toString(), said::add);
        assertEquals(StoredTables.manifest(table).images(), images);
        assertEquals(1, said.size(), said.toString());
        assertTrue(said.get(0).startsWith("migrated dataset " + old + " into a table: snapshot "), said.get(0));
        assertEquals(1, StoredTables.table(old).table().history().size(), "one commit");
        assertEquals(contents(StoredTables.images(table)), contents(StoredImages.read(SharedSpark.session(),
                old.toString(), null)));
        assertEquals(StoredTables.classes(table), StoredTables.classes(old));
        assertEquals(DatasetFiles.json(StoredTables.manifest(table)), DatasetFiles.json(StoredImages.manifest(
                SharedSpark.session(), old.toString())));
        assertEquals(1, StoredTables.quarantine(old).count());
        assertEquals(1, StoredTables.duplicates(old).count());
        for (String gone : List.of("images", "quarantine", "duplicates", "classes.json", "manifest.json")) {
            assertFalse(Files.exists(old.resolve(gone)), gone);
        }
        IngestResult again = new IngestJob(IngestSettings.defaults(raw.toString(), old.toString()).withStoredSize(8)
                .withIncremental(true)).execute(SharedSpark.session());
        assertEquals(again.inputFiles(), again.alreadyPresent(), "every file known after the migration");

        said.clear();
        DatasetMigration.migrate(SharedSpark.session(), old.toString(), said::add);
        assertTrue(said.get(0).startsWith("dataset " + old + " is already a table"), said.toString());
        assertEquals(1, StoredTables.table(old).table().history().size(), "nothing committed");
    }

    @Test
    void aDamagedFolderFormatDatasetIsRefusedWithOneLineAndLeftAsItWas(@TempDir Path tmp) throws IOException {
        Path raw = tmp.resolve("raw");
        plant(raw);
        Path old = tmp.resolve("old");
        // what a sparkvit before the dataset lock left: rows of classes 3..9 that classes.json does not name
        legacy(raw, tmp.resolve("table"), old, SyntheticImageFolder.CLASSES.subList(0, 3));
        byte[] manifest = Files.readAllBytes(old.resolve("manifest.json"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DatasetMigration.migrate(SharedSpark.session(), old.toString(), line -> { }));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().startsWith("dataset " + old + " is damaged: 14 stored images have label_index "
                + "[3, 4, 5, 6, 7, 8, 9], which the class index (3 classes) does not name"), e.getMessage());
        assertFalse(Files.exists(old.resolve("metadata")), "no table");
        assertTrue(Arrays.equals(manifest, Files.readAllBytes(old.resolve("manifest.json"))));
        assertTrue(Files.isDirectory(old.resolve("images")));
        assertTrue(StoredImages.isDataset(new Configuration(), old.toString()), "still a (folder format) dataset");
    }
}
