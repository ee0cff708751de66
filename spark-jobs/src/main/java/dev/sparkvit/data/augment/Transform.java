package dev.sparkvit.data.augment;

import dev.sparkvit.data.image.FloatImage;
import java.io.Serializable;
import java.util.SplittableRandom;

/** One augmentation step. Implementations never modify their input. */
@FunctionalInterface
public interface Transform extends Serializable {
    FloatImage apply(FloatImage image, SplittableRandom random);
}
