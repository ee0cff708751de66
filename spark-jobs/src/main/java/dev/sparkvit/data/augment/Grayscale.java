package dev.sparkvit.data.augment;

import dev.sparkvit.data.image.FloatImage;
import java.util.SplittableRandom;

/**
 * Converts to gray (ITU-R 601 luma: 0.299 R + 0.587 G + 0.114 B, as torchvision) kept as three equal channels, with
 * probability {@code p} (SimCLR: 0.2). DLlib's augmentation has no grayscale.
 */
public record Grayscale(double p) implements Transform {
    public Grayscale {
        Probability.check("grayscale probability", p);
    }

    @Override
    public FloatImage apply(FloatImage image, SplittableRandom random) {
        return random.nextDouble() < p ? gray(image) : image;
    }

    static FloatImage gray(FloatImage image) {
        int plane = image.width() * image.height();
        float[] in = image.data();
        float[] out = new float[in.length];
        for (int i = 0; i < plane; i++) {
            float luma = 0.299f * in[i] + 0.587f * in[plane + i] + 0.114f * in[2 * plane + i];
            out[i] = luma;
            out[plane + i] = luma;
            out[2 * plane + i] = luma;
        }
        return new FloatImage(3, image.height(), image.width(), out);
    }
}
