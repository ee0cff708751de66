package dev.sparkvit.data.augment;

import dev.sparkvit.data.image.FloatImage;
import dev.sparkvit.data.image.Resampler;
import java.util.SplittableRandom;

/**
 * torchvision's {@code RandomResizedCrop}: a crop covering a random fraction of the area in [scaleMin, scaleMax] with
 * a log-uniform aspect ratio in [ratioMin, ratioMax] (ten tries, then the central crop with the ratio clamped),
 * resized to size x size. SimCLR's setting: scale [0.2, 1.0] (training guide, seed 002), ratio [3/4, 4/3].
 */
public record RandomResizedCrop(int size, double scaleMin, double scaleMax, double ratioMin, double ratioMax)
        implements Transform {
    public RandomResizedCrop {
        if (size <= 0) {
            throw new IllegalArgumentException("crop size must be positive, got " + size);
        }
        Probability.checkRange("scale", scaleMin, scaleMax, Double.MIN_VALUE);
        Probability.checkRange("ratio", ratioMin, ratioMax, Double.MIN_VALUE);
    }

    public static RandomResizedCrop simclr(int size) {
        return new RandomResizedCrop(size, 0.2, 1.0, 3.0 / 4, 4.0 / 3);
    }

    @Override
    public FloatImage apply(FloatImage image, SplittableRandom random) {
        int w = image.width();
        int h = image.height();
        double area = (double) w * h;
        double logLo = Math.log(ratioMin);
        double logHi = Math.log(ratioMax);
        for (int attempt = 0; attempt < 10; attempt++) {
            double target = area * (scaleMin + random.nextDouble() * (scaleMax - scaleMin));
            double ratio = Math.exp(logLo + random.nextDouble() * (logHi - logLo));
            int cw = (int) Math.round(Math.sqrt(target * ratio));
            int ch = (int) Math.round(Math.sqrt(target / ratio));
            if (cw > 0 && ch > 0 && cw <= w && ch <= h) {
                int x0 = random.nextInt(w - cw + 1);
                int y0 = random.nextInt(h - ch + 1);
                return Resampler.resize(image, x0, y0, cw, ch, size, size);
            }
        }
        double inRatio = (double) w / h;
        int cw = w;
        int ch = h;
        if (inRatio < ratioMin) {
            ch = (int) Math.round(w / ratioMin);
        } else if (inRatio > ratioMax) {
            cw = (int) Math.round(h * ratioMax);
        }
        return Resampler.resize(image, (w - cw) / 2.0, (h - ch) / 2.0, cw, ch, size, size);
    }
}
