package dev.sparkvit.data.image;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Stored images must not change between versions (an incremental ingest mixes old and new rows): SHA-256 digests of
 * resampled floats and of the bytes they round to, taken from the straightforward implementation.
 */
class ResamplingReproducibilityTest {

    private static RgbImage randomRgb(int width, int height, long seed) {
        byte[] p = new byte[width * height * 3];
        new Random(seed).nextBytes(p);
        return new RgbImage(width, height, p);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void update(MessageDigest sha, FloatImage image) {
        ByteBuffer b = ByteBuffer.allocate(4 * image.data().length);
        for (float f : image.data()) {
            b.putInt(Float.floatToRawIntBits(f));
        }
        sha.update(b.array());
    }

    @Test
    void storedImagesFromPhotoSizesAndSmallOnes() {
        MessageDigest floats = sha256();
        MessageDigest bytes = sha256();
        int[][] sides = {{320, 240}, {240, 320}, {360, 360}, {33, 17}, {20, 20}, {1, 9}};
        for (int i = 0; i < sides.length; i++) {
            FloatImage source = FloatImage.of(randomRgb(sides[i][0], sides[i][1], i));
            update(floats, source);
            for (int size : new int[] {8, 32, 96}) {
                FloatImage stored = Resampler.shorterSideThenCenterCrop(source, size);
                update(floats, stored);
                bytes.update(stored.toRgb().pixels());
            }
        }
        assertEquals("c535ac9a6acac16038e582379548d9c8af3564ea6ed6f57e1f8b3b229950053f",
                HexFormat.of().formatHex(floats.digest()));
        assertEquals("bb4f71673e290b62c8282572f568fa1883270f823c8156a389cb8a8b209ad484",
                HexFormat.of().formatHex(bytes.digest()));
    }

    @Test
    void fractionalBoxesUpAndDown() {
        MessageDigest sha = sha256();
        FloatImage source = FloatImage.of(randomRgb(50, 40, 9));
        double[][] boxes = {{0, 0, 50, 40, 32, 32}, {3.5, 2.25, 11.5, 9.75, 32, 24}, {10, 5, 40, 30, 7, 5},
            {-2, -3, 60, 50, 16, 16}, {49.5, 39.5, 0.5, 0.5, 4, 4}};
        for (double[] b : boxes) {
            update(sha, Resampler.resize(source, b[0], b[1], b[2], b[3], (int) b[4], (int) b[5]));
        }
        assertEquals("5993331d058086b11f4c27a9251b6c866249cbdcc7d6f65b886959bc05892bff",
                HexFormat.of().formatHex(sha.digest()));
    }

    @Test
    void resamplingBytesDirectlyIsResamplingTheirFloats() {
        int[][] sides = {{320, 240}, {240, 320}, {33, 17}, {1, 9}, {50, 40}};
        for (int i = 0; i < sides.length; i++) {
            RgbImage rgb = randomRgb(sides[i][0], sides[i][1], 20 + i);
            FloatImage floats = FloatImage.of(rgb);
            for (int size : new int[] {8, 32, 96}) {
                assertEquals(Arrays.toString(Resampler.shorterSideThenCenterCrop(floats, size).data()),
                        Arrays.toString(Resampler.shorterSideThenCenterCrop(rgb, size).data()), "size " + size);
            }
            assertEquals(Arrays.toString(Resampler.resize(floats, 0.5, 1.25, 7.5, 5.0, 9, 6).data()),
                    Arrays.toString(Resampler.resize(rgb, 0.5, 1.25, 7.5, 5.0, 9, 6).data()));
        }
    }
}
