package dev.sparkvit.jobs.finetune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.feature.dataset.Sample;
import dev.sparkvit.data.augment.AugmentRandom;
import dev.sparkvit.data.augment.Augmentations;
import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.augment.TestImages;
import dev.sparkvit.data.augment.Transform;
import dev.sparkvit.data.image.FloatImage;
import dev.sparkvit.data.image.RgbImage;
import dev.sparkvit.data.ingest.StoredImageSchema;
import dev.sparkvit.data.ingest.StoredImages;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * Fine-tuning samples: hard 1-based labels without mixing; with mixup or cutmix, each element mixed with its mirror
 * in the chunk at one lambda per chunk, checked against the augmented images and targets computed here.
 */
class TrainingSamplesTest {
    private static final int SIZE = 8;
    private static final int CLASSES = 3;
    private static final int CHUNK = 4;
    private static final long SEED = 42;
    private static final int EPOCH = 3;
    private static final int PARTITION = 1;
    private static final Transform AUGMENT = Augmentations.light(SIZE, new Normalize(new float[] {0.5f, 0.4f, 0.3f},
            new float[] {0.25f, 0.2f, 0.3f}));
    /** Chosen so that every element's mirror in its chunk of 4 has another class: 0-3, 1-2, 4-7, 5-6. */
    private static final int[] LABELS = {0, 1, 2, 1, 2, 0, 1, 0};
    private static final StructType SCHEMA = new StructType(Arrays.stream(TrainingSamples.COLUMNS)
            .map(StoredImageSchema.IMAGES::apply).toArray(StructField[]::new));
    private static final List<Row> ROWS = new ArrayList<>();

    static {
        for (int i = 0; i < LABELS.length; i++) {
            ROWS.add(row("img-" + i, LABELS[i]));
        }
    }

    /** A stored 10 x 12 image row with the columns TrainingSamples reads; pixels are H x W x 3 RGB bytes. */
    private static Row row(String id, int label) {
        RgbImage rgb = TestImages.random(10, 12, id.hashCode()).toRgb();
        return new GenericRowWithSchema(new Object[] {id, label, rgb.height(), rgb.width(), rgb.pixels()}, SCHEMA);
    }

    private static TrainingSamples samples(FinetuneSettings.Mixing mixing) {
        return new TrainingSamples(AUGMENT, CLASSES, mixing, CHUNK, SEED);
    }

    private static Sample<Float> sample(TrainingSamples samples, int epoch, int partition, long position) {
        try {
            return samples.apply(epoch, partition, position, p -> ROWS.get((int) (p % ROWS.size())));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static Sample<Float> sample(TrainingSamples samples, long position) {
        return sample(samples, EPOCH, PARTITION, position);
    }

    /** The element's own augmentation: the same pipeline on the stream of (seed, epoch, id, view 0). */
    private static float[] augmented(int index) {
        Row row = ROWS.get(index);
        return AUGMENT.apply(FloatImage.of(StoredImages.image(row)), AugmentRandom.of(SEED, EPOCH, row.getString(0),
                0)).data();
    }

    private static float[] image(Sample<Float> sample) {
        assertArrayEquals(new int[] {3, SIZE, SIZE}, sample.getFeatureSize()[0]);
        return Arrays.copyOfRange((float[]) sample.getData(), 0, 3 * SIZE * SIZE);
    }

    private static float[] label(Sample<Float> sample) {
        float[] data = (float[]) sample.getData();
        return Arrays.copyOfRange(data, 3 * SIZE * SIZE, data.length);
    }

    private static float[] mix(int a, int b, double lambda) {
        float[] target = new float[CLASSES];
        target[a] += (float) lambda;
        target[b] += (float) (1 - lambda);
        return target;
    }

    private static int partner(int position) {
        int first = position / CHUNK * CHUNK;
        return first + CHUNK - 1 - (position - first);
    }

    private static final FinetuneSettings.Mixing MIXUP = new FinetuneSettings.Mixing(true, 0.8, false, 1.0);
    private static final FinetuneSettings.Mixing CUTMIX = new FinetuneSettings.Mixing(false, 0.8, true, 1.0);

    @Test
    void withoutMixingEachSampleIsItsAugmentedImageAndOneBasedLabel() {
        TrainingSamples samples = samples(FinetuneSettings.Mixing.OFF);
        for (int position = 0; position < 2 * LABELS.length; position++) {
            int index = position % LABELS.length;
            Sample<Float> s = sample(samples, position);
            assertArrayEquals(augmented(index), image(s), "position " + position);
            assertArrayEquals(new float[] {LABELS[index] + 1}, label(s), "position " + position);
        }
    }

    @Test
    void mixupBlendsEachElementWithItsMirrorAtOneLambdaPerChunk() {
        TrainingSamples samples = samples(MIXUP);
        double[] lambdas = new double[LABELS.length / CHUNK];
        for (int position = 0; position < LABELS.length; position++) {
            int other = partner(position);
            int a = LABELS[position];
            int b = LABELS[other];
            assertNotEquals(a, b, "fixture: mirrors have different classes");
            Sample<Float> s = sample(samples, position);
            float[] target = label(s);
            double lambda = target[a];
            assertTrue(lambda > 0 && lambda < 1, "lambda " + lambda);
            int chunk = position / CHUNK;
            if (position % CHUNK == 0) {
                lambdas[chunk] = lambda;
            }
            assertEquals(lambdas[chunk], lambda, 1e-6, "one lambda per chunk, position " + position);
            assertArrayEquals(mix(a, b, lambda), target, 1e-6f, "position " + position);
            assertArrayEquals(mix(b, a, lambda), label(sample(samples, other)), 1e-6f,
                    "the mirror mixes the same pair the other way round, position " + position);
            float[] imageA = augmented(position);
            float[] imageB = augmented(other);
            float[] mixed = image(s);
            for (int i = 0; i < mixed.length; i++) {
                assertEquals(lambda * imageA[i] + (1 - lambda) * imageB[i], mixed[i], 1e-5, "pixel " + i);
            }
        }
        assertNotEquals(lambdas[0], lambdas[1], "each chunk draws its own lambda");
        double otherPartition = label(sample(samples, EPOCH, PARTITION + 1, 0))[LABELS[0]];
        double otherEpoch = label(sample(samples, EPOCH + 1, PARTITION, 0))[LABELS[0]];
        assertNotEquals(lambdas[0], otherPartition, "another partition draws another lambda");
        assertNotEquals(lambdas[0], otherEpoch, "another epoch draws another lambda");
    }

    @Test
    void cutmixPastesTheSameBoxIntoBothMirrorsAndTargetsFollowThePixels() {
        TrainingSamples samples = samples(CUTMIX);
        int plane = SIZE * SIZE;
        boolean sawABox = false;
        for (int position = 0; position < 2 * LABELS.length; position++) {
            int index = position % LABELS.length;
            int other = partner(position) % LABELS.length;
            float[] imageA = augmented(index);
            float[] imageB = augmented(other);
            float[] mixed = image(sample(samples, position));
            float[] mirrored = image(sample(samples, partner(position)));
            int fromB = 0;
            for (int i = 0; i < mixed.length; i++) {
                boolean pastedHere = mixed[i] == imageB[i] && mixed[i] != imageA[i];
                assertTrue(pastedHere || mixed[i] == imageA[i], "every pixel comes from one of the two images");
                assertEquals(pastedHere ? imageA[i] : imageB[i], mirrored[i], "the mirror has the box the other way");
                fromB += pastedHere ? 1 : 0;
            }
            assertEquals(0, fromB % 3, "the box covers all three channels");
            double lambda = 1 - (double) fromB / (3 * plane);
            assertArrayEquals(mix(LABELS[index], LABELS[other], lambda), label(sample(samples, position)), 1e-6f,
                    "position " + position);
            sawABox |= fromB > 0 && fromB < 3 * plane;
        }
        assertTrue(sawABox, "some chunk pasted a box");
    }

    @Test
    void sameInputsGiveIdenticalSamples() {
        for (FinetuneSettings.Mixing mixing : List.of(FinetuneSettings.Mixing.OFF, MIXUP, CUTMIX,
                new FinetuneSettings.Mixing(true, 0.8, true, 1.0))) {
            for (int position = 0; position < LABELS.length; position++) {
                float[] first = (float[]) sample(samples(mixing), position).getData();
                float[] again = (float[]) sample(samples(mixing), position).getData();
                assertArrayEquals(first, again, mixing + " position " + position);
            }
        }
        assertNotEquals(Arrays.toString((float[]) sample(samples(MIXUP), 0).getData()),
                Arrays.toString((float[]) sample(new TrainingSamples(AUGMENT, CLASSES, MIXUP, CHUNK, SEED + 1), 0)
                        .getData()), "another seed gives another sample");
    }

    @Test
    void labelsOutsideTheClassesAndEmptyChunksAreRejected() {
        TrainingSamples samples = samples(FinetuneSettings.Mixing.OFF);
        for (int label : new int[] {CLASSES, StoredImageSchema.NO_LABEL}) {
            Row bad = row("bad", label);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> samples.apply(0, 0, 0, p -> bad));
            assertTrue(e.getMessage().contains("bad") && e.getMessage().contains(String.valueOf(label)),
                    e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new TrainingSamples(AUGMENT, CLASSES,
                FinetuneSettings.Mixing.OFF, 0, SEED));
    }
}
