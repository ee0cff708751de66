package dev.sparkvit.data.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.image.FloatImage;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GaussianBlurTest {

    /** The blur as first written (per pixel, every tap, no weight set to 0): the reference for exactness. */
    private static float[] reference(FloatImage image, double sigma) {
        int kernelSize = Math.max(3, (int) (0.1 * Math.min(image.width(), image.height())) | 1);
        int radius = kernelSize / 2;
        float[] kernel = new float[kernelSize];
        double sum = 0;
        for (int i = 0; i < kernelSize; i++) {
            double x = i - radius;
            kernel[i] = (float) Math.exp(-x * x / (2 * sigma * sigma));
            sum += kernel[i];
        }
        for (int i = 0; i < kernelSize; i++) {
            kernel[i] /= (float) sum;
        }
        int w = image.width();
        int h = image.height();
        float[] in = image.data();
        float[] tmp = new float[in.length];
        float[] out = new float[in.length];
        for (int c = 0; c < image.channels(); c++) {
            int base = c * w * h;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    float acc = 0;
                    for (int k = 0; k < kernelSize; k++) {
                        acc += kernel[k] * in[base + y * w + reflect(x + k - radius, w)];
                    }
                    tmp[base + y * w + x] = acc;
                }
            }
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    float acc = 0;
                    for (int k = 0; k < kernelSize; k++) {
                        acc += kernel[k] * tmp[base + reflect(y + k - radius, h) * w + x];
                    }
                    out[base + y * w + x] = acc;
                }
            }
        }
        return out;
    }

    private static int reflect(int i, int n) {
        if (n == 1) {
            return 0;
        }
        int period = 2 * (n - 1);
        int m = Math.floorMod(i, period);
        return m < n ? m : period - m;
    }

    /** An image of 8-bit values, as stored images give: uniform noise, or mostly flat with a few bright pixels. */
    private static FloatImage bytes(int side, boolean sparse, long seed) {
        Random random = new Random(seed);
        float[] d = new float[3 * side * side];
        for (int i = 0; i < d.length; i++) {
            d[i] = sparse ? (random.nextInt(50) == 0 ? 1f : 0.5f) : random.nextInt(256) / 255f;
        }
        return new FloatImage(3, side, side, d);
    }

    @Test
    void settingNegligibleWeightsToZeroChangesNoPixelOfStoredImagesAtAnySigma() {
        for (int side : new int[] {32, 96, 160}) {
            for (boolean sparse : new boolean[] {false, true}) {
                FloatImage image = bytes(side, sparse, side);
                for (double sigma = 0.1; sigma <= 2.0; sigma += side == 160 ? 0.02 : 0.01) {
                    float[] blurred = new GaussianBlur(sigma, sigma).apply(image, new SplittableRandom(1)).data();
                    assertArrayEquals(reference(image, sigma), blurred, 0f, side + " px, sigma " + sigma);
                }
            }
        }
    }

    @Test
    void aNegligibleWeightMattersOnlyWhereEverythingNearerIsZero() {
        float[] d = new float[3 * 96 * 96];
        d[48 * 96 + 48] = 1f; // one lit pixel on black: far from it the exact blur is subnormal, here it is 0
        FloatImage dot = new FloatImage(3, 96, 96, d);
        float[] exact = reference(dot, 0.3);
        float[] blurred = new GaussianBlur(0.3, 0.3).apply(dot, new SplittableRandom(1)).data();
        for (int i = 0; i < d.length; i++) {
            assertTrue(exact[i] == blurred[i] || Math.abs(exact[i]) < 0x1p-96f, "pixel " + i);
        }
        assertEquals(exact[48 * 96 + 48], blurred[48 * 96 + 48]);
    }
}
