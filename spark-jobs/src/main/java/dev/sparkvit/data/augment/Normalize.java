package dev.sparkvit.data.augment;

import dev.sparkvit.data.image.FloatImage;
import java.util.Arrays;
import java.util.SplittableRandom;

/** {@code (x - mean[c]) / std[c]} per channel, with the dataset's statistics from the ingest manifest. */
public record Normalize(float[] mean, float[] std) implements Transform {
    public Normalize {
        if (mean.length != std.length || mean.length == 0) {
            throw new IllegalArgumentException("mean and std need one value per channel, got "
                    + Arrays.toString(mean) + " and " + Arrays.toString(std));
        }
        for (float s : std) {
            if (!(s > 0)) {
                throw new IllegalArgumentException("std must be positive, got " + Arrays.toString(std));
            }
        }
        mean = mean.clone();
        std = std.clone();
    }

    @Override
    public FloatImage apply(FloatImage image, SplittableRandom random) {
        if (image.channels() != mean.length) {
            throw new IllegalArgumentException("normalisation for " + mean.length + " channels got an image with "
                    + image.channels());
        }
        int plane = image.width() * image.height();
        float[] in = image.data();
        float[] out = new float[in.length];
        for (int c = 0; c < mean.length; c++) {
            for (int i = 0; i < plane; i++) {
                out[c * plane + i] = (in[c * plane + i] - mean[c]) / std[c];
            }
        }
        return new FloatImage(image.channels(), image.height(), image.width(), out);
    }

    /** The inverse, for showing normalised views to people. */
    public FloatImage invert(FloatImage image) {
        int plane = image.width() * image.height();
        float[] in = image.data();
        float[] out = new float[in.length];
        for (int c = 0; c < mean.length; c++) {
            for (int i = 0; i < plane; i++) {
                out[c * plane + i] = in[c * plane + i] * std[c] + mean[c];
            }
        }
        return new FloatImage(image.channels(), image.height(), image.width(), out);
    }
}
