package dev.sparkvit.data.augment;

import dev.sparkvit.data.image.FloatImage;
import java.util.SplittableRandom;

/**
 * Grid distortion (as albumentations' {@code GridDistortion}): the image is cut into {@code steps} x {@code steps}
 * cells whose widths and heights are each scaled by a factor uniform in [1 - limit, 1 + limit], and resampled
 * piecewise linearly so the cells stretch and shrink. Applied with probability p.
 */
public record GridDistortion(int steps, double limit, double p) implements Transform {
    public GridDistortion {
        if (steps < 1 || !(limit >= 0 && limit < 1)) {
            throw new IllegalArgumentException("grid distortion needs steps >= 1 and limit in [0, 1), got " + steps
                    + ", " + limit);
        }
        Probability.check("grid distortion probability", p);
    }

    @Override
    public FloatImage apply(FloatImage image, SplittableRandom random) {
        if (random.nextDouble() >= p) {
            return image;
        }
        double[] mapX = axis(image.width(), random);
        double[] mapY = axis(image.height(), random);
        float[] out = new float[image.data().length];
        for (int y = 0; y < image.height(); y++) {
            for (int x = 0; x < image.width(); x++) {
                Warp.sample(image, mapX[x], mapY[y], out, y * image.width() + x);
            }
        }
        return new FloatImage(image.channels(), image.height(), image.width(), out);
    }

    /** For each output index, the source coordinate: cell edges moved, positions interpolated inside each cell. */
    private double[] axis(int size, SplittableRandom random) {
        double[] scaled = new double[steps + 1];
        for (int i = 1; i <= steps; i++) {
            scaled[i] = scaled[i - 1] + 1 + (random.nextDouble() * 2 - 1) * limit;
        }
        double[] map = new double[size];
        for (int i = 0; i < size; i++) {
            double t = (i + 0.5) / size * scaled[steps]; // position in distorted cell units
            int cell = 0;
            while (cell < steps - 1 && t > scaled[cell + 1]) {
                cell++;
            }
            double within = (t - scaled[cell]) / (scaled[cell + 1] - scaled[cell]);
            map[i] = (cell + within) * size / steps - 0.5;
        }
        return map;
    }
}
