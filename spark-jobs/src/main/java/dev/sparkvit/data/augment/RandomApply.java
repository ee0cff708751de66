package dev.sparkvit.data.augment;

import dev.sparkvit.data.image.FloatImage;
import java.util.SplittableRandom;

/** Applies {@code transform} with probability {@code p}, as torchvision's {@code RandomApply}. */
public record RandomApply(Transform transform, double p) implements Transform {
    public RandomApply {
        Probability.check("probability", p);
    }

    @Override
    public FloatImage apply(FloatImage image, SplittableRandom random) {
        return random.nextDouble() < p ? transform.apply(image, random) : image;
    }
}
