package dev.sparkvit.model.vit;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.model.layers.ClassToken;
import dev.sparkvit.model.layers.PatchEmbed;
import dev.sparkvit.model.layers.PositionEmbedding;
import dev.sparkvit.model.layers.TokenLinear;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;

/**
 * timm's default ViT initialisation, drawn from one seeded generator in parameter order so the same seed gives the
 * same weights everywhere: Linear weights truncated normal (std 0.02, cut at +-2 as timm's {@code trunc_normal_}),
 * biases zero; position embedding truncated normal (std 0.02); class token normal (std 1e-6); the patch-embedding
 * convolution keeps PyTorch's default, uniform in +-1/sqrt(fan_in) for weight and bias. LayerNorm (1, 0) and
 * LayerScale (init value) keep their constructor values.
 */
final class WeightInit {
    private WeightInit() {
    }

    static void timm(VisionTransformer vit, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        VisionTransformer.forEachLeaf(vit.module(), (leaf, index, name) -> {
            Tensor<Float> w = leaf.weight(index);
            if (leaf instanceof TokenLinear) {
                if (index == 0) {
                    truncatedNormal(w, 0.02, random);
                } else {
                    w.zero();
                }
            } else if (leaf instanceof PositionEmbedding) {
                truncatedNormal(w, 0.02, random);
            } else if (leaf instanceof ClassToken) {
                fill(w, () -> random.nextGaussian() * 1e-6);
            } else if (leaf instanceof PatchEmbed) {
                int[] shape = Tensors.shape(leaf.weight(0));
                double bound = 1.0 / Math.sqrt((double) shape[1] * shape[2] * shape[3]);
                fill(w, () -> random.nextDouble(-bound, bound));
            }
        });
    }

    private static void truncatedNormal(Tensor<Float> w, double std, SplittableRandom random) {
        fill(w, () -> {
            double v;
            do {
                v = random.nextGaussian() * std;
            } while (v < -2 || v > 2);
            return v;
        });
    }

    private static void fill(Tensor<Float> w, DoubleSupplier draw) {
        float[] data = Tensors.data(w);
        int offset = Tensors.offset(w);
        int size = Tensors.size(w);
        for (int i = 0; i < size; i++) {
            data[offset + i] = (float) draw.getAsDouble();
        }
    }
}
