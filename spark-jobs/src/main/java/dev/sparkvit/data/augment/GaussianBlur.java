package dev.sparkvit.data.augment;

import dev.sparkvit.data.image.FloatImage;
import java.util.SplittableRandom;

/**
 * Separable Gaussian blur with sigma uniform in [sigmaMin, sigmaMax] (SimCLR: [0.1, 2.0]) and a kernel of about a
 * tenth of the image side (odd, at least 3), as SimCLR; edges reflect. DLlib's augmentation has no blur.
 */
public record GaussianBlur(double sigmaMin, double sigmaMax) implements Transform {
    /**
     * Tail weights below 2^-96 are set to 0. Their products with pixel values are subnormal floats or near them,
     * and arithmetic on subnormals is 10-15 times slower on x86 (the JVM cannot flush them to zero): a sigma of
     * 0.3-0.8 at 224 px made the blur 7 times slower. A weight that small changes a sum of pixel values only when
     * everything nearer the centre is (almost) zero; at kernel size 3 (images below 40 px) no weight is that small
     * for sigma at least 0.1, so views there are unchanged.
     */
    static final float NEGLIGIBLE = 0x1p-96f;

    public GaussianBlur {
        Probability.checkRange("blur sigma", sigmaMin, sigmaMax, Double.MIN_VALUE);
    }

    @Override
    public FloatImage apply(FloatImage image, SplittableRandom random) {
        double sigma = sigmaMin + random.nextDouble() * (sigmaMax - sigmaMin);
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
            if (kernel[i] < NEGLIGIBLE) {
                kernel[i] = 0;
            }
        }
        int w = image.width();
        int h = image.height();
        int[] columns = reflected(w, radius);
        int[] rows = reflected(h, radius);
        float[] in = image.data();
        float[] tmp = new float[in.length];
        float[] out = new float[in.length];
        float[] padded = new float[w + 2 * radius];
        // Each output is 0 + k[0] v[0] + k[1] v[1] + ... in this order, as a per-pixel loop over the taps would sum
        // it; looping over the taps outside and the pixels inside keeps that order and lets the JIT vectorise.
        for (int c = 0; c < image.channels(); c++) {
            int base = c * w * h;
            for (int y = 0; y < h; y++) {
                int row = base + y * w;
                for (int j = 0; j < padded.length; j++) {
                    padded[j] = in[row + columns[j]];
                }
                for (int k = 0; k < kernelSize; k++) {
                    float weight = kernel[k];
                    for (int x = 0; x < w; x++) {
                        tmp[row + x] += weight * padded[x + k];
                    }
                }
            }
            for (int y = 0; y < h; y++) {
                int row = base + y * w;
                for (int k = 0; k < kernelSize; k++) {
                    float weight = kernel[k];
                    int from = base + rows[y + k] * w;
                    for (int x = 0; x < w; x++) {
                        out[row + x] += weight * tmp[from + x];
                    }
                }
            }
        }
        return new FloatImage(image.channels(), h, w, out);
    }

    /** Source index of each padded position -radius .. n - 1 + radius, reflected at the edges. */
    private static int[] reflected(int n, int radius) {
        int[] index = new int[n + 2 * radius];
        for (int j = 0; j < index.length; j++) {
            index[j] = reflect(j - radius, n);
        }
        return index;
    }

    /** Reflect padding without repeating the edge (torch's "reflect"). */
    private static int reflect(int i, int n) {
        if (n == 1) {
            return 0;
        }
        int period = 2 * (n - 1);
        int m = Math.floorMod(i, period);
        return m < n ? m : period - m;
    }
}
