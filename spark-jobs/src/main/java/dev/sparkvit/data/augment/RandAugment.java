package dev.sparkvit.data.augment;

import dev.sparkvit.data.image.FloatImage;
import java.util.SplittableRandom;

/**
 * RandAugment (Cubuk et al. 2020): {@code n} operations drawn uniformly from the fourteen below, each applied at
 * magnitude {@code m} of 10 with a random sign where the operation has one. Ranges at m = 10 follow the paper:
 * rotate 30 degrees, shear 0.3, translate 0.45 of the side, enhance factors 1 +- 0.9, solarize threshold 0,
 * posterize to 4 bits.
 */
public record RandAugment(int n, double m) implements Transform {
    /** The operations. */
    enum Op {
        IDENTITY, AUTO_CONTRAST, EQUALIZE, ROTATE, SOLARIZE, COLOR, POSTERIZE, CONTRAST, BRIGHTNESS, SHARPNESS,
        SHEAR_X, SHEAR_Y, TRANSLATE_X, TRANSLATE_Y
    }

    public RandAugment {
        if (n < 0 || !(m >= 0 && m <= 10)) {
            throw new IllegalArgumentException("RandAugment needs n >= 0 and m in [0, 10], got " + n + ", " + m);
        }
    }

    @Override
    public FloatImage apply(FloatImage image, SplittableRandom random) {
        FloatImage current = image;
        Op[] ops = Op.values();
        for (int i = 0; i < n; i++) {
            Op op = ops[random.nextInt(ops.length)];
            double sign = random.nextBoolean() ? 1 : -1;
            current = apply(op, current, m / 10.0, sign);
        }
        return current;
    }

    static FloatImage apply(Op op, FloatImage image, double level, double sign) {
        return switch (op) {
            case IDENTITY -> image;
            case AUTO_CONTRAST -> autoContrast(image);
            case EQUALIZE -> equalize(image);
            case ROTATE -> Rotation.rotate(image, sign * 30 * level);
            case SOLARIZE -> solarize(image, 1 - level);
            case COLOR -> blend(image, Grayscale.gray(image), 1 + sign * 0.9 * level);
            case POSTERIZE -> posterize(image, 8 - (int) Math.round(4 * level));
            case CONTRAST -> blend(image, constant(image, meanLuma(image)), 1 + sign * 0.9 * level);
            case BRIGHTNESS -> blend(image, constant(image, 0), 1 + sign * 0.9 * level);
            case SHARPNESS -> blend(image, smooth(image), 1 + sign * 0.9 * level);
            case SHEAR_X -> Warp.affine(image, 1, sign * 0.3 * level, 0, 0, 1, 0);
            case SHEAR_Y -> Warp.affine(image, 1, 0, 0, sign * 0.3 * level, 1, 0);
            case TRANSLATE_X -> Warp.affine(image, 1, 0, sign * 0.45 * level * image.width(), 0, 1, 0);
            case TRANSLATE_Y -> Warp.affine(image, 1, 0, 0, 0, 1, sign * 0.45 * level * image.height());
        };
    }

    /** {@code clamp(factor * image + (1 - factor) * other)}, PIL's ImageEnhance. */
    private static FloatImage blend(FloatImage image, FloatImage other, double factor) {
        float[] a = image.data();
        float[] b = other.data();
        float[] out = new float[a.length];
        float f = (float) factor;
        for (int i = 0; i < a.length; i++) {
            out[i] = Math.max(0f, Math.min(1f, f * a[i] + (1 - f) * b[i]));
        }
        return new FloatImage(image.channels(), image.height(), image.width(), out);
    }

    private static FloatImage constant(FloatImage image, float value) {
        float[] d = new float[image.data().length];
        java.util.Arrays.fill(d, value);
        return new FloatImage(image.channels(), image.height(), image.width(), d);
    }

    private static float meanLuma(FloatImage image) {
        float[] gray = Grayscale.gray(image).data();
        double sum = 0;
        int plane = image.width() * image.height();
        for (int i = 0; i < plane; i++) {
            sum += gray[i];
        }
        return (float) (sum / plane);
    }

    private static FloatImage solarize(FloatImage image, double threshold) {
        float[] in = image.data();
        float[] out = new float[in.length];
        for (int i = 0; i < in.length; i++) {
            out[i] = in[i] >= threshold ? 1 - in[i] : in[i];
        }
        return new FloatImage(image.channels(), image.height(), image.width(), out);
    }

    private static FloatImage posterize(FloatImage image, int bits) {
        int mask = ~((1 << (8 - bits)) - 1) & 0xff;
        float[] in = image.data();
        float[] out = new float[in.length];
        for (int i = 0; i < in.length; i++) {
            out[i] = (Math.round(Math.max(0, Math.min(1, in[i])) * 255) & mask) / 255f;
        }
        return new FloatImage(image.channels(), image.height(), image.width(), out);
    }

    /** Each channel stretched so its darkest value becomes 0 and its brightest 1. */
    private static FloatImage autoContrast(FloatImage image) {
        int plane = image.width() * image.height();
        float[] in = image.data();
        float[] out = new float[in.length];
        for (int c = 0; c < image.channels(); c++) {
            float lo = Float.MAX_VALUE;
            float hi = -Float.MAX_VALUE;
            for (int i = 0; i < plane; i++) {
                lo = Math.min(lo, in[c * plane + i]);
                hi = Math.max(hi, in[c * plane + i]);
            }
            float range = hi - lo;
            for (int i = 0; i < plane; i++) {
                out[c * plane + i] = range > 0 ? (in[c * plane + i] - lo) / range : in[c * plane + i];
            }
        }
        return new FloatImage(image.channels(), image.height(), image.width(), out);
    }

    /** Per-channel histogram equalisation over 256 levels. */
    private static FloatImage equalize(FloatImage image) {
        int plane = image.width() * image.height();
        float[] in = image.data();
        float[] out = new float[in.length];
        for (int c = 0; c < image.channels(); c++) {
            int[] histogram = new int[256];
            int[] level = new int[plane];
            for (int i = 0; i < plane; i++) {
                level[i] = Math.max(0, Math.min(255, Math.round(in[c * plane + i] * 255)));
                histogram[level[i]]++;
            }
            int[] cdf = new int[256];
            int running = 0;
            for (int v = 0; v < 256; v++) {
                running += histogram[v];
                cdf[v] = running;
            }
            int first = 0;
            while (first < 256 && histogram[first] == 0) {
                first++;
            }
            int minCdf = first < 256 ? cdf[first] : 0;
            for (int i = 0; i < plane; i++) {
                out[c * plane + i] = plane == minCdf ? in[c * plane + i]
                        : (float) (cdf[level[i]] - minCdf) / (plane - minCdf);
            }
        }
        return new FloatImage(image.channels(), image.height(), image.width(), out);
    }

    /** PIL's SMOOTH-like 3x3 filter (centre weight 5, neighbours 1), edges replicated. */
    private static FloatImage smooth(FloatImage image) {
        int w = image.width();
        int h = image.height();
        float[] in = image.data();
        float[] out = new float[in.length];
        for (int c = 0; c < image.channels(); c++) {
            int base = c * w * h;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    float sum = 0;
                    for (int dy = -1; dy <= 1; dy++) {
                        for (int dx = -1; dx <= 1; dx++) {
                            int sx = Math.max(0, Math.min(w - 1, x + dx));
                            int sy = Math.max(0, Math.min(h - 1, y + dy));
                            sum += (dx == 0 && dy == 0 ? 5 : 1) * in[base + sy * w + sx];
                        }
                    }
                    out[base + y * w + x] = sum / 13f;
                }
            }
        }
        return new FloatImage(image.channels(), h, w, out);
    }
}
