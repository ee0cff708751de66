package dev.sparkvit.data.pairs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.feature.dataset.Sample;
import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.augment.Augmentations;
import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.image.FloatImage;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.testing.SharedSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.ArrayList;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(SharedSpark.class)
class PairGeneratorTest {
    @TempDir
    static Path tmp;
    private static String dataset;
    private static final Normalize NORMALIZE = new Normalize(new float[] {0.5f, 0.5f, 0.5f},
            new float[] {0.25f, 0.25f, 0.25f});

    @BeforeAll
    static void ingest() throws IOException {
        Path input = tmp.resolve("raw");
        new SyntheticImageFolder(24, 5, 3).writeTo(input);
        dataset = tmp.resolve("ds").toString();
        new IngestJob(IngestSettings.defaults(input.toString(), dataset).withStoredSize(16))
                .execute(SharedSpark.session());
    }

    /**
     * Every sample's data (both views, then the label) built on the executors, as raw float bits, sorted so the
     * comparison does not depend on the order partitions come back in.
     */
    private static List<int[]> pairs(int partitions, long seed, int epoch) {
        Dataset<Row> images = StoredImages.read(SharedSpark.session(), dataset, null).repartition(partitions);
        assertEquals(partitions, images.javaRDD().getNumPartitions());
        PairGenerator generator = new PairGenerator(Augmentations.simclr(16, NORMALIZE), seed);
        List<int[]> all = new ArrayList<>();
        for (Sample<Float> s : generator.samples(images, epoch).collect()) {
            float[] data = (float[]) s.getData();
            int[] bits = new int[data.length];
            for (int i = 0; i < data.length; i++) {
                bits[i] = Float.floatToRawIntBits(data[i]);
            }
            all.add(bits);
        }
        all.sort(Arrays::compare);
        return all;
    }

    @Test
    void sameSeedGivesByteIdenticalPairsWithOneAndFourPartitions() {
        List<int[]> one = pairs(1, 42, 0);
        List<int[]> four = pairs(4, 42, 0);
        assertEquals(50, one.size());
        assertEquals(one.size(), four.size());
        for (int i = 0; i < one.size(); i++) {
            assertArrayEquals(one.get(i), four.get(i), "pair " + i);
        }
    }

    @Test
    void eachSampleHoldsTwoDifferentViewsAndTheLabel() {
        Dataset<Row> images = StoredImages.read(SharedSpark.session(), dataset, null);
        Sample<Float> sample = new PairGenerator(Augmentations.simclr(16, NORMALIZE), 42)
                .samples(images.limit(1), 0).first();
        assertEquals(2, sample.numFeature());
        assertArrayEquals(new int[] {3, 16, 16}, sample.getFeatureSize()[0]);
        assertArrayEquals(new int[] {3, 16, 16}, sample.getFeatureSize()[1]);
        float[] data = (float[]) sample.getData();
        int view = 3 * 16 * 16;
        assertFalse(Arrays.equals(Arrays.copyOfRange(data, 0, view), Arrays.copyOfRange(data, view, 2 * view)),
                "the two views differ");
        int labelIndex = images.limit(1).first().getInt(images.schema().fieldIndex("label_index"));
        assertEquals(labelIndex + 1, data[2 * view], "1-based label after the features");
    }

    @Test
    void anotherEpochOrSeedGivesOtherViews() {
        List<int[]> base = pairs(2, 42, 0);
        List<int[]> nextEpoch = pairs(2, 42, 1);
        List<int[]> otherSeed = pairs(2, 43, 0);
        for (int i = 0; i < base.size(); i++) {
            assertFalse(Arrays.equals(base.get(i), nextEpoch.get(i)), "epoch 1 differs from epoch 0");
            assertFalse(Arrays.equals(base.get(i), otherSeed.get(i)), "seed 43 differs from seed 42");
        }
    }

    @Test
    void contactSheetIsWritten(@TempDir Path out) throws IOException {
        Row row = StoredImages.read(SharedSpark.session(), dataset, null).first();
        PairGenerator generator = new PairGenerator(Augmentations.simclr(16, NORMALIZE), 42);
        FloatImage[] views = generator.pair(row.getString(0), StoredImages.image(row), 0);
        Path png = out.resolve("sheet.png");
        ContactSheet.write(png, List.of(new ContactSheet.Row(StoredImages.image(row), views[0], views[1])),
                NORMALIZE, 64);
        java.awt.image.BufferedImage sheet = javax.imageio.ImageIO.read(png.toFile());
        assertEquals(4 + 3 * (64 + 4), sheet.getWidth());
        assertEquals(4 + 64 + 4, sheet.getHeight());
        assertTrue(Files.size(png) > 0);
    }
}
