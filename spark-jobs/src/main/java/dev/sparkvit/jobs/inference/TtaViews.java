package dev.sparkvit.jobs.inference;

import dev.sparkvit.data.augment.HorizontalFlip;
import dev.sparkvit.data.image.FloatImage;
import dev.sparkvit.data.image.Resampler;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

/**
 * Test-time augmentation: the views a prediction averages its class probabilities over. "identity" is the image,
 * "flip" its mirror image, "crops" the four corner crops and the centre crop at 7/8 of each side, resized back to
 * the full size. Without TTA only the identity view is used.
 */
public final class TtaViews implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Side of the crops, as a share of the image side. */
    static final double CROP = 7.0 / 8;

    private final List<String> names;

    /** @param names a non-empty list of "identity", "flip" and "crops" */
    public TtaViews(List<String> names) {
        if (names.isEmpty()) {
            throw new IllegalArgumentException("test-time augmentation needs at least one view");
        }
        for (String name : names) {
            if (!List.of("identity", "flip", "crops").contains(name)) {
                throw new IllegalArgumentException("unknown test-time augmentation view '" + name
                        + "': expected identity, flip or crops");
            }
        }
        this.names = List.copyOf(names);
    }

    /** The identity view alone (no TTA). */
    public static TtaViews none() {
        return new TtaViews(List.of("identity"));
    }

    public List<String> names() {
        return names;
    }

    /** The images the views make of {@code image} (crops count five). */
    public List<FloatImage> apply(FloatImage image) {
        List<FloatImage> views = new ArrayList<>();
        for (String name : names) {
            for (UnaryOperator<FloatImage> view : operators(name, image.width(), image.height())) {
                views.add(view.apply(image));
            }
        }
        return views;
    }

    /** Images per input image. */
    public int count() {
        return names.stream().mapToInt(n -> n.equals("crops") ? 5 : 1).sum();
    }

    private static List<UnaryOperator<FloatImage>> operators(String name, int width, int height) {
        switch (name) {
            case "identity":
                return List.of(image -> image);
            case "flip":
                return List.of(image -> new HorizontalFlip(1.0).apply(image, new SplittableRandom(0)));
            default:
                double w = width * CROP;
                double h = height * CROP;
                double[][] origins = {{0, 0}, {width - w, 0}, {0, height - h}, {width - w, height - h},
                        {(width - w) / 2, (height - h) / 2}};
                List<UnaryOperator<FloatImage>> crops = new ArrayList<>();
                for (double[] o : origins) {
                    crops.add(image -> Resampler.resize(image, o[0], o[1], w, h, width, height));
                }
                return crops;
        }
    }

    @Override
    public String toString() {
        return String.join("+", names);
    }
}
