package dev.sparkvit.data.augment;

import dev.sparkvit.data.image.FloatImage;

/**
 * An image and its soft target after mixup or cutmix.
 *
 * @param image the mixed image
 * @param target class probabilities
 * @param lambda the share of the first image (for cutmix: of its pixels)
 */
public record MixedSample(FloatImage image, float[] target, double lambda) {
}
