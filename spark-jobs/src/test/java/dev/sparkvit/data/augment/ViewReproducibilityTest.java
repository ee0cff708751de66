package dev.sparkvit.data.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sparkvit.data.image.FloatImage;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Augmented views are part of a run's reproducibility: the same (seed, epoch, image, view) must give the same
 * floats, bit for bit, in every version. These SHA-256 digests of many views were taken from the straightforward
 * implementation; a change that alters them changes the math and must say so.
 */
class ViewReproducibilityTest {
    private static final Normalize NORMALIZE = new Normalize(new float[] {0.49f, 0.5f, 0.51f},
            new float[] {0.28f, 0.3f, 0.27f});

    /** Digest of the raw float bits of {@code views} views of each of a few random images. */
    private static String digest(Transform transform, int views, int... sides) {
        MessageDigest sha = sha256();
        ByteBuffer bits = ByteBuffer.allocate(4);
        for (int i = 0; i < sides.length; i += 2) {
            FloatImage image = TestImages.random(sides[i], sides[i + 1], 1000 + i);
            for (int v = 0; v < views; v++) {
                FloatImage out = transform.apply(image, AugmentRandom.of(42, v / 2, "image-" + i, v % 2));
                sha.update(ByteBuffer.allocate(12).putInt(out.channels()).putInt(out.height()).putInt(out.width())
                        .array());
                for (float f : out.data()) {
                    sha.update(bits.clear().putInt(Float.floatToRawIntBits(f)).array());
                }
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void simclrViewsAtStoredSizes() {
        assertEquals("0081478f43bd54e4c32458cb52fe95b6d8b4fd1b87c0d4a921a30f0d425a59f3",
                digest(Augmentations.simclr(32, NORMALIZE), 40, 32, 32, 20, 28));
        assertEquals("48f4fca16bee65250cfaa809cd20ec75f19d9580233f680384c9fddf83ffa566",
                digest(Augmentations.simclr(96, NORMALIZE), 16, 96, 96, 60, 90));
        assertEquals("5e3dde7ab2d65f8461dea91b5747a11e4fe0b0839c5103cb1e26e95b63d1fd92",
                digest(Augmentations.simclr(224, NORMALIZE), 4, 224, 224));
    }

    @Test
    void eachSimclrStepAlone() {
        assertEquals("1edcf1ed24f72d807bb74f90a0cc65f04979cb468732d4a6c8502fdf15e5f565",
                digest(new ColorJitter(0.8, 0.8, 0.8, 0.2), 40, 32, 32, 17, 23));
        assertEquals("9d464ead31f6684d47e190fdc865c770386dec8810f792a32c1cd1ab7cc8df60",
                digest(new ColorJitter(0.4, 0.4, 0.4, 0.1), 20, 48, 40));
        assertEquals("9bef5d6365486828fce39416f4f214c160221751afe8249a2aed23907ba52c55",
                digest(new GaussianBlur(0.1, 2.0), 20, 32, 32, 96, 96, 5, 7, 1, 9));
        assertEquals("11357ce1254160d1fe69f39ecd6d5091871dfd13089532a5d9c5bff1d9581be2",
                digest(RandomResizedCrop.simclr(32), 20, 32, 32, 64, 48, 7, 40));
        assertEquals("144f107f0d9b4e3a58a2f079f59fd433af342e6a9558a923923c5416ddf157a9",
                digest(new Grayscale(1.0), 2, 32, 32));
        assertEquals("b244394d2026cc6576be572a06cf8f8b05ffa70d2c6d874f747057a6db1d8eec",
                digest(new HorizontalFlip(1.0), 2, 31, 33));
        assertEquals("de86f63bbafd57a6b3bd15fe055cd47759aca2329831a51477a26b7fe2f7e19c", digest(NORMALIZE, 2, 32, 32));
    }

    @Test
    void fineTuningViews() {
        assertEquals("502e514ff28677d589301e3c77c94a80bc821b989a809f2b4e4a94fc1ee53339",
                digest(Augmentations.moderate(32, NORMALIZE), 20, 32, 32));
        assertEquals("bf68c039868e844848e35afaa7964f92744d78d3f5690d73c790b502e5373363",
                digest(Augmentations.aggressive(32, NORMALIZE), 20, 32, 32));
    }
}
