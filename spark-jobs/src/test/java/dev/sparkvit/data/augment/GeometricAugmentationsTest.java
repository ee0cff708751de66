package dev.sparkvit.data.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.image.FloatImage;
import java.util.Arrays;
import java.util.SplittableRandom;
import static dev.sparkvit.data.augment.TestImages.at;
import static dev.sparkvit.data.augment.TestImages.random;

import org.junit.jupiter.api.Test;

class GeometricAugmentationsTest {

    @Test
    void rotationByZeroIsTheIdentityAndByNinetyMovesPixelsAroundTheCentre() {
        FloatImage img = random(5, 5, 1);
        assertArrayEquals(img.data(), Rotation.rotate(img, 0).data(), 1e-6f);
        FloatImage turned = Rotation.rotate(img, 90);
        // output (x, y) samples source (cos*ox + sin*oy, -sin*ox + cos*oy) = (oy, -ox) about the centre
        for (int y = 0; y < 5; y++) {
            for (int x = 0; x < 5; x++) {
                assertEquals(at(img, 1, 4 - x, y), at(turned, 1, y, x), 1e-5f);
            }
        }
    }

    @Test
    void cutoutGraysOneSquareAndLeavesTheRest() {
        FloatImage img = random(16, 16, 2);
        FloatImage cut = new Cutout(0.25, 1.0).apply(img, new SplittableRandom(3));
        int changed = 0;
        for (int i = 0; i < img.data().length; i++) {
            if (img.data()[i] != cut.data()[i]) {
                changed++;
                assertEquals(0.5f, cut.data()[i]);
            }
        }
        assertTrue(changed > 0 && changed <= 3 * 4 * 4, "at most one 4x4 square per channel, got " + changed);
    }

    @Test
    void gridDistortionWithoutDistortionIsTheIdentity() {
        FloatImage img = random(10, 12, 4);
        assertArrayEquals(img.data(), new GridDistortion(5, 0.0, 1.0).apply(img, new SplittableRandom(1)).data(),
                1e-5f);
        assertFalse(Arrays.equals(img.data(),
                new GridDistortion(5, 0.3, 1.0).apply(img, new SplittableRandom(1)).data()));
    }

    @Test
    void everyRandAugmentOperationKeepsShapeAndRange() {
        FloatImage img = random(12, 12, 5);
        for (RandAugment.Op op : RandAugment.Op.values()) {
            for (double sign : new double[] {-1, 1}) {
                FloatImage out = RandAugment.apply(op, img, 0.9, sign);
                assertEquals(img.data().length, out.data().length, op.toString());
                for (float v : out.data()) {
                    assertTrue(v >= 0f && v <= 1f, op + " gave " + v);
                }
            }
        }
        assertTrue(new RandAugment(0, 9).apply(img, new SplittableRandom(1)) == img, "n = 0 changes nothing");
    }

    @Test
    void solarizePosterizeAndEqualizeDoWhatTheySay() {
        FloatImage img = new FloatImage(3, 1, 2, new float[] {0.2f, 0.9f, 0.2f, 0.9f, 0.2f, 0.9f});
        FloatImage solarized = RandAugment.apply(RandAugment.Op.SOLARIZE, img, 0.5, 1); // threshold 0.5
        assertEquals(0.2f, solarized.data()[0], 1e-6f);
        assertEquals(0.1f, solarized.data()[1], 1e-6f);
        FloatImage equalized = RandAugment.apply(RandAugment.Op.EQUALIZE, img, 1, 1);
        assertEquals(0f, equalized.data()[0], 1e-6f);
        assertEquals(1f, equalized.data()[1], 1e-6f);
        FloatImage posterized = RandAugment.apply(RandAugment.Op.POSTERIZE, img, 1.0, 1); // 4 bits
        assertEquals((Math.round(0.9f * 255) & 0xf0) / 255f, posterized.data()[1], 1e-6f);
    }

    @Test
    void aggressivePipelineIsDeterministicPerStreamAndSized() {
        Normalize n = new Normalize(new float[] {0.5f, 0.5f, 0.5f}, new float[] {0.25f, 0.25f, 0.25f});
        FloatImage img = random(20, 24, 6);
        Pipeline aggressive = Augmentations.finetune("aggressive", 16, n);
        FloatImage a = aggressive.apply(img, AugmentRandom.of(1, 0, "x", 0));
        FloatImage b = aggressive.apply(img, AugmentRandom.of(1, 0, "x", 0));
        assertArrayEquals(a.data(), b.data());
        assertEquals(16, a.width());
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> Augmentations.finetune("extreme", 16, n));
        assertTrue(error.getMessage().contains("'extreme'"), error.getMessage());
    }
}
