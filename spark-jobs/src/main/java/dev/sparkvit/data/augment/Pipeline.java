package dev.sparkvit.data.augment;

import dev.sparkvit.data.image.FloatImage;
import java.util.List;
import java.util.SplittableRandom;

/** Transforms applied in order, all drawing from one random stream. */
public record Pipeline(List<Transform> steps) implements Transform {
    public Pipeline {
        steps = List.copyOf(steps);
    }

    @Override
    public FloatImage apply(FloatImage image, SplittableRandom random) {
        FloatImage current = image;
        for (Transform step : steps) {
            current = step.apply(current, random);
        }
        return current;
    }
}
