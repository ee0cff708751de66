package dev.sparkvit.data.augment;

import java.util.List;

/**
 * The named pipelines. SimCLR's view pipeline follows the training guide (seed 002, "SimCLR Augmentations"); the
 * fine-tuning severities build on each other: light (crop, flip), moderate (+ colour jitter, blur, rotation),
 * aggressive (+ RandAugment, Cutout, grid distortion).
 */
public final class Augmentations {
    private Augmentations() {
    }

    /**
     * One SimCLR view: random resized crop (scale [0.2, 1.0]), flip (p 0.5), colour jitter (0.8, 0.8, 0.8, 0.2)
     * with p 0.8, grayscale p 0.2, Gaussian blur sigma [0.1, 2.0] with p 0.5, normalisation.
     */
    public static Pipeline simclr(int size, Normalize normalize) {
        return new Pipeline(List.of(
                RandomResizedCrop.simclr(size),
                new HorizontalFlip(0.5),
                new RandomApply(new ColorJitter(0.8, 0.8, 0.8, 0.2), 0.8),
                new Grayscale(0.2),
                new RandomApply(new GaussianBlur(0.1, 2.0), 0.5),
                normalize));
    }

    /** Fine-tuning, light: random resized crop over most of the image (scale [0.8, 1]), flip, normalisation. */
    public static Pipeline light(int size, Normalize normalize) {
        return new Pipeline(List.of(new RandomResizedCrop(size, 0.8, 1.0, 3.0 / 4, 4.0 / 3), new HorizontalFlip(0.5),
                normalize));
    }

    /**
     * Fine-tuning, moderate: a wider crop range (scale [0.5, 1]), flip, colour jitter (0.4, 0.4, 0.4, 0.1) with p 0.8,
     * blur with p 0.2, rotation up to 15 degrees with p 0.5.
     */
    public static Pipeline moderate(int size, Normalize normalize) {
        return new Pipeline(List.of(new RandomResizedCrop(size, 0.5, 1.0, 3.0 / 4, 4.0 / 3), new HorizontalFlip(0.5),
                new RandomApply(new ColorJitter(0.4, 0.4, 0.4, 0.1), 0.8),
                new RandomApply(new GaussianBlur(0.1, 2.0), 0.2), new RandomApply(new Rotation(15), 0.5),
                normalize));
    }

    /**
     * Fine-tuning, aggressive: moderate plus RandAugment (2 operations at magnitude 9), grid distortion (5 steps,
     * limit 0.3) with p 0.3 and Cutout (a quarter of the side) with p 0.5.
     */
    public static Pipeline aggressive(int size, Normalize normalize) {
        return new Pipeline(List.of(new RandomResizedCrop(size, 0.35, 1.0, 3.0 / 4, 4.0 / 3), new HorizontalFlip(0.5),
                new RandomApply(new ColorJitter(0.4, 0.4, 0.4, 0.1), 0.8),
                new RandomApply(new GaussianBlur(0.1, 2.0), 0.2), new RandomApply(new Rotation(15), 0.5),
                new RandAugment(2, 9), new GridDistortion(5, 0.3, 0.3), new Cutout(0.25, 0.5), normalize));
    }

    /** The fine-tuning pipeline of a severity name: light, moderate or aggressive. */
    public static Pipeline finetune(String severity, int size, Normalize normalize) {
        return switch (severity) {
            case "light" -> light(size, normalize);
            case "moderate" -> moderate(size, normalize);
            case "aggressive" -> aggressive(size, normalize);
            default -> throw new IllegalArgumentException("augmentation severity '" + severity
                    + "' is unknown: expected light, moderate or aggressive");
        };
    }
}
