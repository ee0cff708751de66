package dev.sparkvit.data.augment;

import dev.sparkvit.data.image.FloatImage;
import java.util.SplittableRandom;

/**
 * Mixup (Zhang et al. 2018) and CutMix (Yun et al. 2019) of two examples with soft targets, as timm's Mixup with
 * {@code mixup_alpha} 0.8 and {@code cutmix_alpha} 1.0 (the training guide's fine-tuning recipe). lambda is drawn
 * from Beta(alpha, alpha).
 * <ul>
 *   <li>mixup: {@code image = lambda a + (1 - lambda) b}, {@code target = lambda t_a + (1 - lambda) t_b};</li>
 *   <li>cutmix: a box of area {@code (1 - lambda) H W} (side {@code sqrt(1 - lambda)} of each dimension, centre
 *   uniform, clipped to the image) is pasted from b into a, and lambda is corrected to the share of a's pixels that
 *   remain: {@code 1 - box area / (H W)}; the target mixes with the corrected lambda.</li>
 * </ul>
 * Targets may already be smoothed; both are class-probability vectors of equal length.
 */
public final class BatchMix {
    private BatchMix() {
    }

    public static MixedSample mixup(FloatImage a, float[] ta, FloatImage b, float[] tb, double lambda) {
        requireSameShape(a, b, ta, tb);
        requireLambda(lambda);
        float[] data = new float[a.data().length];
        float l = (float) lambda;
        for (int i = 0; i < data.length; i++) {
            data[i] = l * a.data()[i] + (1 - l) * b.data()[i];
        }
        return new MixedSample(new FloatImage(a.channels(), a.height(), a.width(), data), mix(ta, tb, lambda),
                lambda);
    }

    /** CutMix with the box drawn from {@code random} for a Beta-drawn {@code lambda}. */
    public static MixedSample cutmix(FloatImage a, float[] ta, FloatImage b, float[] tb, double lambda,
            SplittableRandom random) {
        requireLambda(lambda);
        double cut = Math.sqrt(1 - lambda);
        int cutH = (int) (a.height() * cut);
        int cutW = (int) (a.width() * cut);
        int cy = random.nextInt(a.height());
        int cx = random.nextInt(a.width());
        return cutmixBox(a, ta, b, tb, clip(cy - cutH / 2, a.height()), clip(cy + cutH / 2, a.height()),
                clip(cx - cutW / 2, a.width()), clip(cx + cutW / 2, a.width()));
    }

    /** CutMix with a given box: rows [top, bottom) and columns [left, right) come from b. */
    public static MixedSample cutmixBox(FloatImage a, float[] ta, FloatImage b, float[] tb, int top, int bottom,
            int left, int right) {
        requireSameShape(a, b, ta, tb);
        if (top < 0 || left < 0 || bottom > a.height() || right > a.width() || top > bottom || left > right) {
            throw new IllegalArgumentException("cutmix box rows [" + top + ", " + bottom + ") columns [" + left + ", "
                    + right + ") does not fit a " + a.height() + "x" + a.width() + " image");
        }
        float[] data = a.data().clone();
        int plane = a.height() * a.width();
        for (int c = 0; c < a.channels(); c++) {
            for (int y = top; y < bottom; y++) {
                System.arraycopy(b.data(), c * plane + y * a.width() + left, data, c * plane + y * a.width() + left,
                        right - left);
            }
        }
        double lambda = 1 - (double) (bottom - top) * (right - left) / plane;
        return new MixedSample(new FloatImage(a.channels(), a.height(), a.width(), data), mix(ta, tb, lambda),
                lambda);
    }

    /** A draw from Beta(alpha, alpha), as the ratio of two Gamma(alpha) draws (Marsaglia and Tsang). */
    public static double beta(double alpha, SplittableRandom random) {
        if (!(alpha > 0)) {
            throw new IllegalArgumentException("Beta alpha must be positive, got " + alpha);
        }
        double x = gamma(alpha, random);
        double y = gamma(alpha, random);
        return x / (x + y);
    }

    static double gamma(double shape, SplittableRandom random) {
        if (shape < 1) { // boost: Gamma(a) = Gamma(a + 1) U^(1/a)
            return gamma(shape + 1, random) * Math.pow(random.nextDouble(), 1 / shape);
        }
        double d = shape - 1.0 / 3;
        double c = 1 / Math.sqrt(9 * d);
        while (true) {
            double x = gaussian(random);
            double v = 1 + c * x;
            if (v <= 0) {
                continue;
            }
            v = v * v * v;
            double u = random.nextDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
                return d * v;
            }
        }
    }

    private static double gaussian(SplittableRandom random) {
        double u1 = 1 - random.nextDouble(); // (0, 1]
        double u2 = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    private static float[] mix(float[] ta, float[] tb, double lambda) {
        float[] t = new float[ta.length];
        for (int k = 0; k < t.length; k++) {
            t[k] = (float) (lambda * ta[k] + (1 - lambda) * tb[k]);
        }
        return t;
    }

    private static int clip(int v, int size) {
        return Math.max(0, Math.min(size, v));
    }

    private static void requireLambda(double lambda) {
        if (!(lambda >= 0 && lambda <= 1)) {
            throw new IllegalArgumentException("mixing lambda must be in [0, 1], got " + lambda);
        }
    }

    private static void requireSameShape(FloatImage a, FloatImage b, float[] ta, float[] tb) {
        if (a.channels() != b.channels() || a.height() != b.height() || a.width() != b.width()) {
            throw new IllegalArgumentException("cannot mix a " + a.channels() + "x" + a.height() + "x" + a.width()
                    + " image with a " + b.channels() + "x" + b.height() + "x" + b.width() + " one");
        }
        if (ta.length != tb.length) {
            throw new IllegalArgumentException("cannot mix targets of " + ta.length + " and " + tb.length
                    + " classes");
        }
    }
}
