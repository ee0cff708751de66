package dev.sparkvit.bench;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.Tensors;
import java.util.SplittableRandom;

/**
 * A seeded batch of standard-normal images (B, C, H, W) and uniform 1-based class labels (B): the input of the
 * throughput benchmarks, whose cost does not depend on the values.
 */
public record SyntheticBatch(Tensor<Float> images, Tensor<Float> labels) implements java.io.Serializable {

    public static SyntheticBatch of(int batch, int channels, int size, int classes, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] pixels = new float[batch * channels * size * size];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (float) gaussian(random);
        }
        float[] labels = new float[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = 1 + random.nextInt(classes);
        }
        return new SyntheticBatch(Tensors.of(pixels, batch, channels, size, size), Tensors.of(labels, batch));
    }

    private static double gaussian(SplittableRandom random) {
        double u = 1.0 - random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
    }

    /** Image {@code index} alone, (C, H, W), a copy. */
    public Tensor<Float> image(int index) {
        return images.select(1, index + 1).clone();
    }

    /** The 1-based label of image {@code index}. */
    public int label(int index) {
        return Math.round(labels.valueAt(index + 1));
    }
}
