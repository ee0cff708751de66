package dev.sparkvit.data.augment;

import dev.sparkvit.data.image.FloatImage;
import java.util.SplittableRandom;

/**
 * torchvision's {@code ColorJitter}: brightness, contrast and saturation factors uniform in
 * [max(0, 1 - x), 1 + x], a hue shift uniform in [-hue, hue] (fraction of the colour wheel), applied in a random
 * order, results clamped to [0, 1]. SimCLR's setting: 0.8, 0.8, 0.8, 0.2 (training guide, seed 002).
 */
public record ColorJitter(double brightness, double contrast, double saturation, double hue) implements Transform {
    public ColorJitter {
        if (brightness < 0 || contrast < 0 || saturation < 0 || hue < 0 || hue > 0.5) {
            throw new IllegalArgumentException("colour jitter strengths must be >= 0 and hue <= 0.5, got "
                    + brightness + ", " + contrast + ", " + saturation + ", " + hue);
        }
    }

    @Override
    public FloatImage apply(FloatImage image, SplittableRandom random) {
        int[] order = {0, 1, 2, 3};
        for (int i = 3; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        double b = factor(brightness, random);
        double c = factor(contrast, random);
        double s = factor(saturation, random);
        double h = hue > 0 ? -hue + random.nextDouble() * 2 * hue : 0;
        FloatImage out = image.copy();
        for (int op : order) {
            switch (op) {
                case 0 -> blend(out, 0f, b);
                case 1 -> blend(out, c == 1 ? 0f : meanLuma(out), c);
                case 2 -> blendWithLuma(out, s);
                default -> shiftHue(out, h);
            }
        }
        return out;
    }

    private static double factor(double strength, SplittableRandom random) {
        if (strength == 0) {
            return 1;
        }
        double lo = Math.max(0, 1 - strength);
        return lo + random.nextDouble() * (1 + strength - lo);
    }

    /** image = clamp(factor * image + (1 - factor) * other) with a constant other (0 is black). */
    private static void blend(FloatImage image, float other, double factor) {
        if (factor == 1) {
            return;
        }
        float[] d = image.data();
        float f = (float) factor;
        for (int i = 0; i < d.length; i++) {
            d[i] = Math.max(0f, Math.min(1f, f * d[i] + (1 - f) * other));
        }
    }

    /** image = clamp(factor * image + (1 - factor) * gray), every channel blended with the pixel's luma. */
    private static void blendWithLuma(FloatImage image, double factor) {
        if (factor == 1) {
            return;
        }
        float[] luma = luma(image);
        float[] d = image.data();
        float f = (float) factor;
        for (int c = 0; c < 3; c++) {
            int base = c * luma.length;
            for (int i = 0; i < luma.length; i++) {
                d[base + i] = Math.max(0f, Math.min(1f, f * d[base + i] + (1 - f) * luma[i]));
            }
        }
    }

    /** The luma plane, computed as {@link Grayscale#gray} computes each of its equal channels. */
    private static float[] luma(FloatImage image) {
        int plane = image.width() * image.height();
        float[] in = image.data();
        float[] luma = new float[plane];
        for (int i = 0; i < plane; i++) {
            luma[i] = 0.299f * in[i] + 0.587f * in[plane + i] + 0.114f * in[2 * plane + i];
        }
        return luma;
    }

    private static float meanLuma(FloatImage image) {
        float[] luma = luma(image);
        double sum = 0;
        for (float v : luma) {
            sum += v;
        }
        return (float) (sum / luma.length);
    }

    /** Rotates the hue by {@code shift} turns through HSV, as torchvision's {@code adjust_hue}. */
    private static void shiftHue(FloatImage image, double shift) {
        if (shift == 0) {
            return;
        }
        float[] d = image.data();
        int plane = image.width() * image.height();
        for (int i = 0; i < plane; i++) {
            float r = d[i];
            float g = d[plane + i];
            float b = d[2 * plane + i];
            float max = Math.max(r, Math.max(g, b));
            float min = Math.min(r, Math.min(g, b));
            float delta = max - min;
            if (delta == 0) {
                continue;
            }
            double hue;
            if (max == r) {
                hue = ((g - b) / delta) / 6.0;
            } else if (max == g) {
                hue = ((b - r) / delta + 2) / 6.0;
            } else {
                hue = ((r - g) / delta + 4) / 6.0;
            }
            hue = wrap(hue + shift);
            float sat = delta / max;
            double sector = hue * 6; // in [0, 6]: truncation is the floor
            int k = (int) sector % 6;
            float f = (float) (sector - (int) sector);
            float p = max * (1 - sat);
            float q = max * (1 - sat * f);
            float t = max * (1 - sat * (1 - f));
            float outR;
            float outG;
            float outB;
            switch (k) {
                case 0 -> {
                    outR = max;
                    outG = t;
                    outB = p;
                }
                case 1 -> {
                    outR = q;
                    outG = max;
                    outB = p;
                }
                case 2 -> {
                    outR = p;
                    outG = max;
                    outB = t;
                }
                case 3 -> {
                    outR = p;
                    outG = q;
                    outB = max;
                }
                case 4 -> {
                    outR = t;
                    outG = p;
                    outB = max;
                }
                default -> {
                    outR = max;
                    outG = p;
                    outB = q;
                }
            }
            d[i] = outR;
            d[plane + i] = outG;
            d[2 * plane + i] = outB;
        }
    }

    /**
     * {@code (x % 1.0 + 1.0) % 1.0} for |x| below 2^52, bit for bit, without the slow floating-point remainder: the
     * remainder of a division by 1 is {@code x - trunc(x)}, exactly, with the sign of x, and the second one is taken
     * of a value in [0, 2].
     */
    static double wrap(double x) {
        double once = x - (long) x + 1.0;
        return once - (long) once;
    }
}
