package dev.sparkvit.model.losses;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatCriterion;
import dev.sparkvit.engine.Tensors;

/**
 * Cross-entropy of logits against class probabilities, as {@code torch.nn.CrossEntropyLoss(weight,
 * label_smoothing)} with probability targets: targets are smoothed to {@code (1 - eps) t + eps / C}, and
 * {@code loss = (1/N) sum_n sum_c -w_c t_nc log softmax(z_n)_c}. Hard labels (1-based indices) and soft targets
 * (mixup, cutmix) are both accepted. The gradient is {@code (1/N) (p_nk sum_c w_c t_nc - w_k t_nk)}.
 */
public final class CrossEntropyLoss extends FloatCriterion {
    private static final long serialVersionUID = 1L;

    private final double smoothing;
    private final float[] classWeights;

    /**
     * @param smoothing label smoothing eps in [0, 1)
     * @param classWeights per-class weights, or null for none
     */
    public CrossEntropyLoss(double smoothing, float[] classWeights) {
        if (!(smoothing >= 0 && smoothing < 1)) {
            throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + smoothing);
        }
        this.smoothing = smoothing;
        this.classWeights = classWeights == null ? null : classWeights.clone();
    }

    private float[] smoothed(Tensor<Float> input, Tensor<Float> target) {
        float[] t = SoftTargets.of(input, target).clone();
        int c = input.size(2);
        for (int i = 0; i < t.length; i++) {
            t[i] = (float) ((1 - smoothing) * t[i] + smoothing / c);
        }
        return t;
    }

    @Override
    protected float loss(Tensor<Float> input, Tensor<Float> target) {
        int n = input.size(1);
        int c = input.size(2);
        float[] w = SoftTargets.weights(classWeights, c, "class weights");
        float[] t = smoothed(input, target);
        double[] logP = SoftTargets.logSoftmax(Tensors.toArray(input), n, c);
        double sum = 0;
        for (int i = 0; i < n * c; i++) {
            sum -= w[i % c] * t[i] * logP[i];
        }
        return (float) (sum / n);
    }

    @Override
    protected void gradient(Tensor<Float> input, Tensor<Float> target, Tensor<Float> gradInput) {
        int n = input.size(1);
        int c = input.size(2);
        float[] w = SoftTargets.weights(classWeights, c, "class weights");
        float[] t = smoothed(input, target);
        double[] logP = SoftTargets.logSoftmax(Tensors.toArray(input), n, c);
        float[] g = new float[n * c];
        for (int i = 0; i < n; i++) {
            double weighted = 0;
            for (int k = 0; k < c; k++) {
                weighted += w[k] * t[i * c + k];
            }
            for (int k = 0; k < c; k++) {
                g[i * c + k] = (float) ((Math.exp(logP[i * c + k]) * weighted - w[k] * t[i * c + k]) / n);
            }
        }
        gradInput.copy(Tensors.of(g, n, c));
    }
}
