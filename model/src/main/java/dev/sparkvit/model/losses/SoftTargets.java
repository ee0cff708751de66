package dev.sparkvit.model.losses;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.Tensors;

/**
 * Targets of the classification losses as an (N, C) matrix of class probabilities: soft targets (mixup, cutmix) are
 * taken as they are; hard labels, an (N) or (N, 1) tensor of 1-based class indices as DLlib's samples carry them,
 * become one-hot rows. Also the row-wise log-softmax the losses share.
 */
final class SoftTargets {
    private SoftTargets() {
    }

    /** The (N, C) target probabilities for logits of shape (N, C). */
    static float[] of(Tensor<Float> logits, Tensor<Float> target) {
        int n = logits.size(1);
        int c = logits.size(2);
        float[] t = Tensors.toArray(target);
        if (target.nElement() == n * c && target.dim() == 2 && target.size(2) == c) {
            return t;
        }
        if (target.nElement() != n) {
            throw new IllegalArgumentException("targets must be (N, C) probabilities or N class indices for logits "
                    + java.util.Arrays.toString(Tensors.shape(logits)) + "; got "
                    + java.util.Arrays.toString(Tensors.shape(target)));
        }
        float[] oneHot = new float[n * c];
        for (int i = 0; i < n; i++) {
            int label = Math.round(t[i]);
            if (label < 1 || label > c || label != t[i]) {
                throw new IllegalArgumentException("class index " + t[i] + " of row " + i + " is outside 1.." + c);
            }
            oneHot[i * c + label - 1] = 1;
        }
        return oneHot;
    }

    /** Row-wise log-softmax of (n, c) logits, in double. */
    static double[] logSoftmax(float[] z, int n, int c) {
        double[] out = new double[n * c];
        for (int i = 0; i < n; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < c; k++) {
                max = Math.max(max, z[i * c + k]);
            }
            double sum = 0;
            for (int k = 0; k < c; k++) {
                sum += Math.exp(z[i * c + k] - max);
            }
            double lse = max + Math.log(sum);
            for (int k = 0; k < c; k++) {
                out[i * c + k] = z[i * c + k] - lse;
            }
        }
        return out;
    }

    /** Checks optional per-class weights against the class count. */
    static float[] weights(float[] weights, int classes, String what) {
        if (weights == null) {
            float[] ones = new float[classes];
            java.util.Arrays.fill(ones, 1f);
            return ones;
        }
        if (weights.length != classes) {
            throw new IllegalArgumentException(what + " has " + weights.length + " entries for " + classes
                    + " classes");
        }
        return weights;
    }
}
