package dev.sparkvit.data.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.image.FloatImage;
import java.util.Arrays;
import java.util.SplittableRandom;
import static dev.sparkvit.data.augment.TestImages.at;
import static dev.sparkvit.data.augment.TestImages.random;

import org.junit.jupiter.api.Test;

class AugmentationsTest {

    @Test
    void flipMirrorsEveryRow() {
        FloatImage img = random(3, 4, 1);
        FloatImage flipped = new HorizontalFlip(1.0).apply(img, new SplittableRandom(1));
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 3; y++) {
                for (int x = 0; x < 4; x++) {
                    assertEquals(at(img, c, y, x), at(flipped, c, y, 3 - x));
                }
            }
        }
        assertTrue(new HorizontalFlip(0.0).apply(img, new SplittableRandom(1)) == img, "p = 0 never flips");
    }

    @Test
    void grayscaleHasThreeEqualChannelsOfLuma() {
        FloatImage gray = new Grayscale(1.0).apply(random(2, 2, 2), new SplittableRandom(1));
        FloatImage src = random(2, 2, 2);
        float expected = 0.299f * at(src, 0, 1, 1) + 0.587f * at(src, 1, 1, 1) + 0.114f * at(src, 2, 1, 1);
        for (int c = 0; c < 3; c++) {
            assertEquals(expected, at(gray, c, 1, 1), 1e-6f);
        }
    }

    @Test
    void randomResizedCropHasTheRequestedSizeAndVariesWithTheStream() {
        FloatImage img = random(20, 30, 3);
        RandomResizedCrop crop = RandomResizedCrop.simclr(8);
        FloatImage a = crop.apply(img, new SplittableRandom(1));
        FloatImage b = crop.apply(img, new SplittableRandom(2));
        assertEquals(8, a.width());
        assertEquals(8, a.height());
        assertFalse(Arrays.equals(a.data(), b.data()));
    }

    @Test
    void blurKeepsAConstantImageConstant() {
        float[] d = new float[3 * 10 * 10];
        Arrays.fill(d, 0.3f);
        FloatImage blurred = new GaussianBlur(0.1, 2.0).apply(new FloatImage(3, 10, 10, d), new SplittableRandom(1));
        for (float v : blurred.data()) {
            assertEquals(0.3f, v, 1e-6f);
        }
    }

    @Test
    void colourJitterStaysInRangeAndWithZeroStrengthIsTheIdentity() {
        FloatImage img = random(6, 6, 4);
        FloatImage jittered = new ColorJitter(0.8, 0.8, 0.8, 0.2).apply(img, new SplittableRandom(5));
        for (float v : jittered.data()) {
            assertTrue(v >= 0f && v <= 1f, "value " + v);
        }
        assertFalse(Arrays.equals(img.data(), jittered.data()));
        assertArrayEquals(img.data(), new ColorJitter(0, 0, 0, 0).apply(img, new SplittableRandom(5)).data(), 1e-6f);
    }

    @Test
    void hueWrapIsTheRemainderFormulaBitForBit() {
        SplittableRandom random = new SplittableRandom(3);
        double[] edges = {0, -0.0, 1, -1, 0.5, -0.5, 1 - 0x1p-53, -1 + 0x1p-53, 0x1p-60, -0x1p-60, 1.2, -1.2, 1.9999};
        for (int i = 0; i < 100_000 + edges.length; i++) {
            double x = i < edges.length ? edges[i] : (random.nextDouble() - 0.5) * 4;
            double expected = (x % 1.0 + 1.0) % 1.0;
            assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(ColorJitter.wrap(x)),
                    "wrap(" + x + ")");
        }
    }

    @Test
    void normalizeInvertsExactly() {
        Normalize n = new Normalize(new float[] {0.4f, 0.5f, 0.6f}, new float[] {0.2f, 0.25f, 0.3f});
        FloatImage img = random(3, 3, 6);
        FloatImage back = n.invert(n.apply(img, new SplittableRandom(1)));
        assertArrayEquals(img.data(), back.data(), 1e-6f);
        assertThrows(IllegalArgumentException.class, () -> new Normalize(new float[] {0}, new float[] {0}));
    }

    @Test
    void theSameStreamGivesTheSameViewAndTransformsDoNotTouchTheirInput() {
        FloatImage img = random(16, 16, 7);
        float[] before = img.data().clone();
        Pipeline simclr = Augmentations.simclr(12, new Normalize(new float[] {0.5f, 0.5f, 0.5f},
                new float[] {0.5f, 0.5f, 0.5f}));
        FloatImage a = simclr.apply(img, AugmentRandom.of(42, 3, "abc", 0));
        FloatImage b = simclr.apply(img, AugmentRandom.of(42, 3, "abc", 0));
        FloatImage c = simclr.apply(img, AugmentRandom.of(42, 3, "abc", 1));
        assertArrayEquals(a.data(), b.data());
        assertFalse(Arrays.equals(a.data(), c.data()));
        assertArrayEquals(before, img.data());
        assertNotSame(a, b);
    }

    @Test
    void fineTuningSeveritiesProduceTheRequestedSize() {
        Normalize n = new Normalize(new float[] {0, 0, 0}, new float[] {1, 1, 1});
        assertEquals(10, Augmentations.light(10, n).apply(random(16, 20, 8), new SplittableRandom(1)).width());
        assertEquals(10, Augmentations.moderate(10, n).apply(random(16, 20, 8), new SplittableRandom(1)).height());
    }
}
