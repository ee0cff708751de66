package dev.sparkvit.data.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.image.FloatImage;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Mixup and cutmix images and soft targets, against hand-computed values. */
class BatchMixTest {
    private static FloatImage constant(float value) {
        float[] data = new float[3 * 4 * 4];
        Arrays.fill(data, value);
        return new FloatImage(3, 4, 4, data);
    }

    private static final float[] CAT = {1, 0, 0};
    private static final float[] DOG = {0, 1, 0};

    @Test
    void mixupBlendsImagesAndTargetsByLambda() {
        MixedSample mixed = BatchMix.mixup(constant(1), CAT, constant(0), DOG, 0.7);
        assertEquals(0.7f, mixed.image().data()[5], 1e-6f);
        assertArrayEquals(new float[] {0.7f, 0.3f, 0}, mixed.target(), 1e-6f);
        // with label smoothing 0.1 already applied to both (0.1 / 3 off-target, 0.9 + 0.1 / 3 on target)
        float off = 0.1f / 3;
        float on = 0.9f + off;
        MixedSample smoothed = BatchMix.mixup(constant(1), new float[] {on, off, off}, constant(0),
                new float[] {off, on, off}, 0.7);
        assertArrayEquals(new float[] {0.7f * on + 0.3f * off, 0.7f * off + 0.3f * on, off}, smoothed.target(),
                1e-6f);
    }

    @Test
    void cutmixPastesTheBoxAndCorrectsLambdaToTheRemainingArea() {
        // a 2x2 box of a 4x4 image: 4 of 16 pixels from b, so lambda = 12 / 16
        MixedSample mixed = BatchMix.cutmixBox(constant(1), CAT, constant(0), DOG, 1, 3, 0, 2);
        assertEquals(0.75, mixed.lambda(), 1e-12);
        assertArrayEquals(new float[] {0.75f, 0.25f, 0}, mixed.target(), 1e-6f);
        float[] plane = Arrays.copyOfRange(mixed.image().data(), 16, 32); // channel 1
        assertArrayEquals(new float[] {1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1}, plane);
    }

    @Test
    void drawnCutmixBoxesGiveTargetsThatMatchTheirPixels() {
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < 50; i++) {
            double lambda = BatchMix.beta(1.0, random);
            MixedSample mixed = BatchMix.cutmix(constant(1), CAT, constant(0), DOG, lambda, random);
            double fromA = 0;
            for (float v : mixed.image().data()) {
                fromA += v;
            }
            assertEquals(fromA / mixed.image().data().length, mixed.target()[0], 1e-6, "target = pixel share");
        }
    }

    @Test
    void betaDrawsHaveTheBetaMean() {
        SplittableRandom random = new SplittableRandom(11);
        for (double alpha : new double[] {0.8, 1.0}) {
            double sum = 0;
            double squares = 0;
            int n = 20_000;
            for (int i = 0; i < n; i++) {
                double x = BatchMix.beta(alpha, random);
                assertTrue(x >= 0 && x <= 1);
                sum += x;
                squares += x * x;
            }
            double mean = sum / n;
            double variance = squares / n - mean * mean;
            assertEquals(0.5, mean, 0.01, "alpha " + alpha);
            assertEquals(1 / (4 * (2 * alpha + 1)), variance, 0.005, "alpha " + alpha); // Beta(a, a) variance
        }
    }

    @Test
    void mismatchedInputsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> BatchMix.mixup(constant(1), CAT, constant(0),
                new float[] {1, 0}, 0.5));
        assertThrows(IllegalArgumentException.class, () -> BatchMix.mixup(constant(1), CAT, constant(0), DOG, 1.5));
        assertThrows(IllegalArgumentException.class, () -> BatchMix.cutmixBox(constant(1), CAT, constant(0), DOG,
                0, 5, 0, 1));
    }
}
