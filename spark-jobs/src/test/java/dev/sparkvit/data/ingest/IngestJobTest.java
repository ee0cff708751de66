package dev.sparkvit.data.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.testing.SharedSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(SharedSpark.class)
class IngestJobTest {

    /** 10 classes x 6 good images, plus one of each kind of bad file and a duplicate under another name. */
    private static int plant(Path input) throws IOException {
        int good = new SyntheticImageFolder(24, 6, 42).writeTo(input);
        BadFiles.write(input.resolve("disc/corrupt.jpg"), BadFiles.corruptJpeg());
        BadFiles.write(input.resolve("disc/truncated.png"), BadFiles.truncatedPng());
        BadFiles.write(input.resolve("checker/empty.png"), new byte[0]);
        BadFiles.write(input.resolve("checker/notes.jpg"), "this is not an image".getBytes());
        BadFiles.write(input.resolve("square/bomb.png"), BadFiles.pngHeader(30000, 30000));
        BadFiles.write(input.resolve("square/tiny.png"), BadFiles.encode(BadFiles.noise(4, 4, 5), "png"));
        BadFiles.unreadable(input.resolve("stripes/socket.png"));
        BadFiles.write(input.resolve("stray.png"), BadFiles.encode(BadFiles.noise(20, 20, 6), "png"));
        Files.copy(input.resolve("disc/disc_00001.png"), input.resolve("stripes/copy_of_disc.png"));
        return good;
    }

    private static Map<String, String> quarantineReasons(Path dataset) {
        Map<String, String> reasons = new HashMap<>();
        for (Row r : StoredTables.quarantine(dataset)
                .select("source_path", "reason").collectAsList()) {
            String path = r.getString(0);
            reasons.put(path.substring(path.lastIndexOf('/') + 1), r.getString(1));
        }
        return reasons;
    }

    @Test
    void badFilesAreQuarantinedWithTheRightReasonAndEveryFileIsAccountedFor(@TempDir Path tmp) throws IOException {
        Path input = tmp.resolve("raw");
        int good = plant(input);
        Path output = tmp.resolve("dataset");
        IngestSettings settings = IngestSettings.defaults(input.toString(), output.toString()).withStoredSize(16);

        IngestResult result = new IngestJob(settings).execute(SharedSpark.session());

        assertEquals(good + 9, result.inputFiles());
        assertEquals(good, result.stored());
        assertEquals(1, result.duplicates());
        assertEquals(8, result.quarantined());
        assertEquals(0, result.alreadyPresent());
        assertEquals(Map.of("corrupt.jpg", "corrupt", "truncated.png", "truncated", "empty.png", "zero_bytes",
                "notes.jpg", "not_an_image", "bomb.png", "too_large", "tiny.png", "too_small",
                "socket.png", "unreadable", "stray.png", "no_class_folder"), quarantineReasons(output));

        Dataset<Row> images = StoredTables.images(output);
        assertEquals(good, images.count());
        assertEquals(good, images.select("hash").distinct().count(), "each content stored once");
        Row one = images.filter("source_path like '%disc_00001.png'").first();
        assertEquals(16, one.getInt(one.fieldIndex("height")));
        assertEquals(16 * 16 * 3, ((byte[]) one.get(one.fieldIndex("pixels"))).length);

        Manifest manifest = result.manifest();
        assertEquals(SyntheticImageFolder.CLASSES, manifest.classes());
        assertEquals(good, manifest.images());
        long perClass = manifest.counts().get("disc").values().stream().mapToLong(Long::longValue).sum();
        assertEquals(6, perClass);
        assertEquals(8L, manifest.quarantinedByReason().values().stream().mapToLong(Long::longValue).sum());
        assertEquals(1, manifest.duplicates());
        for (int c = 0; c < 3; c++) {
            assertTrue(manifest.channelMean()[c] > 0 && manifest.channelMean()[c] < 1, "mean in (0, 1)");
            assertTrue(manifest.channelStd()[c] > 0, "std positive");
        }
        Manifest reread = StoredTables.manifest(output);
        assertEquals(manifest.images(), reread.images());
        assertEquals(manifest.classes(), reread.classes());
    }

    @Test
    void incrementalRerunOnTheSameInputWritesNothingNew(@TempDir Path tmp) throws IOException {
        Path input = tmp.resolve("raw");
        int good = plant(input);
        Path output = tmp.resolve("dataset");
        IngestSettings settings = IngestSettings.defaults(input.toString(), output.toString()).withStoredSize(16);
        new IngestJob(settings).execute(SharedSpark.session());
        List<Path> before = files(output);
        long snapshot = StoredTables.snapshot(output);

        IngestResult again = new IngestJob(settings.withIncremental(true)).execute(SharedSpark.session());
        assertEquals(0, again.stored());
        assertEquals(0, again.quarantined());
        assertEquals(0, again.duplicates());
        assertEquals(again.inputFiles(), again.alreadyPresent());
        assertEquals(before, files(output), "no new file: no data file, no metadata");
        assertEquals(snapshot, StoredTables.snapshot(output), "nothing committed");
        assertEquals(good, again.manifest().images());

        new SyntheticImageFolder(24, 7, 42).writeTo(input); // one more image per class
        IngestResult more = new IngestJob(settings.withIncremental(true)).execute(SharedSpark.session());
        assertEquals(10, more.stored());
        assertEquals(good + 10, more.manifest().images());
    }

    /**
     * The manifest's counts and train statistics (one Spark pass over the image table) and the stored label indices
     * (a literal map in the plan), recomputed here from the stored rows, after a first run and after an incremental
     * run that adds a class.
     */
    @Test
    void manifestAndLabelIndicesAgreeWithTheStoredRows(@TempDir Path tmp) throws IOException {
        Path input = tmp.resolve("raw");
        new SyntheticImageFolder(16, 5, 3).writeTo(input);
        Path output = tmp.resolve("dataset");
        IngestSettings settings = IngestSettings.defaults(input.toString(), output.toString()).withStoredSize(12);
        checkManifest(new IngestJob(settings).execute(SharedSpark.session()).manifest(), output);

        BadFiles.write(input.resolve("zzz_new_class/one.png"), BadFiles.encode(BadFiles.noise(20, 20, 7), "png"));
        BadFiles.write(input.resolve("zzz_new_class/two.png"), BadFiles.encode(BadFiles.noise(20, 20, 8), "png"));
        Manifest after = new IngestJob(settings.withIncremental(true)).execute(SharedSpark.session()).manifest();
        assertEquals("zzz_new_class", after.classes().get(after.classes().size() - 1));
        checkManifest(after, output);
    }

    private static void checkManifest(Manifest manifest, Path output) {
        Map<String, Map<String, Long>> counts = new java.util.TreeMap<>();
        double[] sums = new double[7];
        for (Row r : StoredTables.images(output)
                .select("label", "label_index", "split", "pixels").collectAsList()) {
            assertEquals(manifest.classes().indexOf(r.getString(0)), r.getInt(1), "label index of " + r.getString(0));
            counts.computeIfAbsent(r.getString(0), k -> new java.util.TreeMap<>()).merge(r.getString(2), 1L,
                    Long::sum);
            if (r.getString(2).equals("train")) {
                byte[] p = (byte[]) r.get(3);
                for (int i = 0; i < p.length; i += 3) {
                    sums[0]++;
                    for (int c = 0; c < 3; c++) {
                        double v = (p[i + c] & 0xff) / 255.0;
                        sums[1 + c] += v;
                        sums[4 + c] += v * v;
                    }
                }
            }
        }
        assertEquals(counts, manifest.counts());
        assertTrue(sums[0] > 0, "some train images");
        for (int c = 0; c < 3; c++) {
            double mean = sums[1 + c] / sums[0];
            assertEquals(mean, manifest.channelMean()[c], 1e-12);
            assertEquals(Math.sqrt(sums[4 + c] / sums[0] - mean * mean), manifest.channelStd()[c], 1e-12);
        }
    }

    @Test
    void aNonIncrementalRunRefusesAnExistingDataset(@TempDir Path tmp) throws IOException {
        Path input = tmp.resolve("raw");
        new SyntheticImageFolder(16, 2, 1).writeTo(input);
        IngestSettings settings = IngestSettings.defaults(input.toString(), tmp.resolve("ds").toString());
        new IngestJob(settings).execute(SharedSpark.session());
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> new IngestJob(settings).execute(SharedSpark.session()));
        assertTrue(error.getMessage().contains("--incremental"), error.getMessage());
    }

    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).sorted().toList();
        }
    }

    @Test
    void anInputOfEmptyFoldersIsRefusedInsteadOfWritingAnEmptyDataset(@TempDir Path tmp) throws IOException {
        // issue 20, defect 5: exit 0 and a dataset of 0 images with mean and std 0
        Path input = Files.createDirectories(tmp.resolve("raw").resolve("cats"));
        Path output = tmp.resolve("dataset");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new IngestJob(
                IngestSettings.defaults(input.getParent().toString(), output.toString())).execute(
                        SharedSpark.session()));
        assertEquals("input " + input.getParent() + " holds no files: nothing to ingest", e.getMessage());
        assertTrue(!Files.exists(output), "nothing written");
    }
}
