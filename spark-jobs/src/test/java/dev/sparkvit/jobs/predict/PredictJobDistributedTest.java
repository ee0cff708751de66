package dev.sparkvit.jobs.predict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.config.ConfigException;
import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.jobs.inference.ClassifierWeights;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitPresets;
import dev.sparkvit.testing.SharedSpark;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prediction over 10,000 real PNG files (and ten broken ones) on Spark: exactly one row per valid image, every
 * broken file in the rejects table with its reason, top-k sorted; and over an ingested dataset, one row per image.
 */
@ExtendWith(SharedSpark.class)
class PredictJobDistributedTest {
    private static final int IMAGES = 10_000;
    @TempDir
    static Path shared;
    private static String dataset;
    private static Path model;

    @BeforeAll
    static void datasetAndModel() {
        Path raw = shared.resolve("raw");
        new SyntheticImageFolder(16, 6, 3).writeTo(raw);
        dataset = shared.resolve("ds").toString();
        new IngestJob(IngestSettings.defaults(raw.toString(), dataset).withStoredSize(16))
                .execute(SharedSpark.session());
        List<String> classes = StoredImages.manifest(SharedSpark.session(), dataset).classes();
        VisionTransformer vit = VisionTransformer.classifier(VitPresets.get("vit_nano_patch4_32").withImgSize(16),
                classes.size(), 3);
        model = shared.resolve("model.safetensors");
        ClassifierWeights.of("vit_nano_patch4_32", vit, classes, Map.of("dataset", dataset)).save(model);
    }

    private static PredictJob.Result predict(String input, String split, Path output, int k) {
        return new PredictJob(new PredictJob.Settings(model, input, split, output.toString(), k, List.of("identity")),
                new PrintStream(new ByteArrayOutputStream())).execute(SharedSpark.session());
    }

    @Test
    void tenThousandFilesGiveOneRowEachAndEveryBrokenFileIsARejectNotACrash(@TempDir Path tmp) throws Exception {
        Path folder = tmp.resolve("incoming");
        Random random = new Random(5);
        for (int i = 0; i < IMAGES; i++) {
            Path dir = folder.resolve("batch-" + i / 1000);
            Files.createDirectories(dir);
            BufferedImage image = new BufferedImage(12 + i % 9, 12 + i % 7, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < image.getHeight(); y++) {
                for (int x = 0; x < image.getWidth(); x++) {
                    image.setRGB(x, y, random.nextInt(1 << 24));
                }
            }
            ImageIO.write(image, "png", dir.resolve(String.format("img-%05d.png", i)).toFile());
        }
        Path bad = folder.resolve("bad");
        Files.createDirectories(bad);
        byte[] png = Files.readAllBytes(folder.resolve("batch-0").resolve("img-00000.png"));
        Files.write(bad.resolve("empty.png"), new byte[0]);
        Files.write(bad.resolve("truncated.png"), java.util.Arrays.copyOf(png, png.length / 3));
        Files.writeString(bad.resolve("notes.txt"), "not an image");
        Files.writeString(bad.resolve("fake.jpg"), "GIF89a but not really");
        for (int i = 0; i < 5; i++) {
            byte[] flipped = png.clone();
            flipped[20 + i * 7] ^= (byte) 0xff; // inside the IHDR chunk: CRC or dimensions broken
            Files.write(bad.resolve("flipped-" + i + ".png"), flipped);
        }
        Files.write(bad.resolve("tiny.png"), tinyPng());

        PredictJob.Result result = predict(folder.toString(), null, tmp.resolve("out"), 2);

        List<Row> rows = SharedSpark.session().read().parquet(result.predictions()).collectAsList();
        List<Row> rejects = SharedSpark.session().read().parquet(result.rejects()).collectAsList();
        assertEquals(IMAGES + 10, result.listed());
        Set<String> paths = new HashSet<>();
        for (Row row : rows) {
            assertTrue(paths.add(row.getString(0)), "one row per image: " + row.getString(0));
            List<String> labels = row.getList(1);
            List<Float> p = row.getList(2);
            assertEquals(2, labels.size());
            assertTrue(p.get(0) >= p.get(1) && p.get(0) + p.get(1) <= 1.0001f, p.toString());
        }
        for (Row reject : rejects) {
            assertTrue(reject.getString(0).contains("/bad/"), "only the broken files are rejected: " + reject);
            assertTrue(!reject.getString(1).isEmpty(), reject.toString());
        }
        int goodAmongBad = 10 - rejects.size();
        assertEquals(IMAGES + goodAmongBad, rows.size(), "every valid input has exactly one row");
        assertEquals(result.predicted(), rows.size());
        assertTrue(rejects.size() >= 5, "empty, truncated, text, fake and tiny files are rejected: " + rejects);
        for (int i = 0; i < IMAGES; i += 997) {
            String name = String.format("img-%05d.png", i);
            assertTrue(paths.stream().anyMatch(p -> p.endsWith("/" + name)), name + " predicted");
        }
    }

    @Test
    void anIngestedDatasetGivesOneRowPerStoredImage(@TempDir Path tmp) {
        long stored = StoredImages.read(SharedSpark.session(), dataset, null).count();
        PredictJob.Result all = predict(dataset, null, tmp.resolve("all"), 3);
        assertEquals(stored, all.predicted());
        assertEquals(0, all.rejected());
        long test = StoredImages.read(SharedSpark.session(), dataset, "test").count();
        assertEquals(test, predict(dataset, "test", tmp.resolve("test"), 1).predicted());
        ConfigException again = assertThrows(ConfigException.class, () -> predict(dataset, null, tmp.resolve("all"),
                1));
        assertTrue(again.getMessage().contains("already exists"), again.getMessage());
    }

    /** A valid 4 x 4 PNG: below ingest's minimum size of 8. */
    private static byte[] tinyPng() throws java.io.IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB), "png", out);
        return out.toByteArray();
    }
}
