package dev.sparkvit.data.augment;

import dev.sparkvit.data.image.FloatImage;
import java.util.SplittableRandom;

/**
 * Separable Gaussian blur with sigma uniform in [sigmaMin, sigmaMax] (SimCLR: [0.1, 2.0]) and a kernel of about a
 * tenth of the image side (odd, at least 3), as SimCLR; edges reflect. DLlib's augmentation has no blur.
 */
public record GaussianBlur(double sigmaMin, double sigmaMax) implements Transform {
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
        return new FloatImage(image.channels(), h, w, out);
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
