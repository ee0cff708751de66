package dev.sparkvit.data.augment;

import dev.sparkvit.data.image.FloatImage;
import java.util.SplittableRandom;

/**
 * Cutout (DeVries and Taylor 2017): one square of side {@code fraction} x the shorter side, centred anywhere in the
 * image (it may be clipped by the border), set to mid gray (the mean of a normalised image), with probability p.
 */
public record Cutout(double fraction, double p) implements Transform {
    public Cutout {
        if (!(fraction > 0 && fraction <= 1)) {
            throw new IllegalArgumentException("cutout fraction must be in (0, 1], got " + fraction);
        }
        Probability.check("cutout probability", p);
    }

    @Override
    public FloatImage apply(FloatImage image, SplittableRandom random) {
        if (random.nextDouble() >= p) {
            return image;
        }
        int side = Math.max(1, (int) Math.round(fraction * Math.min(image.width(), image.height())));
        int cx = random.nextInt(image.width());
        int cy = random.nextInt(image.height());
        FloatImage out = image.copy();
        int plane = image.width() * image.height();
        for (int y = Math.max(0, cy - side / 2); y < Math.min(image.height(), cy - side / 2 + side); y++) {
            for (int x = Math.max(0, cx - side / 2); x < Math.min(image.width(), cx - side / 2 + side); x++) {
                for (int c = 0; c < image.channels(); c++) {
                    out.data()[c * plane + y * image.width() + x] = Warp.FILL;
                }
            }
        }
        return out;
    }
}
