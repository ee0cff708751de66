package dev.sparkvit.data.augment;

import dev.sparkvit.data.image.FloatImage;
import java.util.SplittableRandom;

/** Mirrors the image left-right with probability {@code p} (SimCLR: 0.5). */
public record HorizontalFlip(double p) implements Transform {
    public HorizontalFlip {
        Probability.check("flip probability", p);
    }

    @Override
    public FloatImage apply(FloatImage image, SplittableRandom random) {
        if (random.nextDouble() >= p) {
            return image;
        }
        int w = image.width();
        float[] in = image.data();
        float[] out = new float[in.length];
        for (int row = 0; row < image.channels() * image.height(); row++) {
            int base = row * w;
            for (int x = 0; x < w; x++) {
                out[base + x] = in[base + w - 1 - x];
            }
        }
        return new FloatImage(image.channels(), image.height(), w, out);
    }
}
