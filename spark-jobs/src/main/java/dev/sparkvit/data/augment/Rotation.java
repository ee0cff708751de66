package dev.sparkvit.data.augment;

import dev.sparkvit.data.image.FloatImage;
import java.util.SplittableRandom;

/** Rotates about the centre by an angle uniform in [-maxDegrees, maxDegrees]; uncovered corners are mid gray. */
public record Rotation(double maxDegrees) implements Transform {
    public Rotation {
        if (!(maxDegrees >= 0 && maxDegrees <= 180)) {
            throw new IllegalArgumentException("rotation must be 0 to 180 degrees, got " + maxDegrees);
        }
    }

    @Override
    public FloatImage apply(FloatImage image, SplittableRandom random) {
        return rotate(image, (random.nextDouble() * 2 - 1) * maxDegrees);
    }

    static FloatImage rotate(FloatImage image, double degrees) {
        double t = Math.toRadians(degrees);
        // inverse of a rotation by t is a rotation by -t
        return Warp.affine(image, Math.cos(t), Math.sin(t), 0, -Math.sin(t), Math.cos(t), 0);
    }
}
