/**
 * Image augmentations in plain Java on {@link dev.sparkvit.data.image.FloatImage}s, each a small pure function of
 * (image, random stream), assembled into pipelines (after solo-learn's {@code build_transform_pipeline}). Random
 * streams come from {@link AugmentRandom#of(long, int, String, int)}: (seed, epoch, image id, view), so results do
 * not depend on partitioning or execution order.
 */
package dev.sparkvit.data.augment;
