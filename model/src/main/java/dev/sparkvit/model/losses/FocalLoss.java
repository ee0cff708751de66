package dev.sparkvit.model.losses;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatCriterion;
import dev.sparkvit.engine.Tensors;

/**
 * Focal loss (Lin et al. 2017) of logits against class probabilities: {@code loss = (1/N) sum_n sum_c -alpha_c t_nc
 * (1 - p_nc)^gamma log p_nc}; with one-hot targets the familiar {@code -alpha_y (1 - p_y)^gamma log p_y}, and with
 * gamma 0 and no alpha the cross-entropy. Soft targets (mixup, cutmix) weight each class's term. The gradient with
 * {@code a_c = alpha_c t_c p_c d/dp[(1 - p)^gamma log p](p_c)} is {@code (1/N) (p_k sum_c a_c - a_k)}.
 */
public final class FocalLoss extends FloatCriterion {
    private static final long serialVersionUID = 1L;

    private final double gamma;
    private final float[] alpha;

    /**
     * @param gamma focusing parameter, >= 0 (the guide: 2)
     * @param alpha per-class weights, or null for none
     */
    public FocalLoss(double gamma, float[] alpha) {
        if (!(gamma >= 0) || Double.isInfinite(gamma)) {
            throw new IllegalArgumentException("focal gamma must be finite and >= 0, got " + gamma);
        }
        this.gamma = gamma;
        this.alpha = alpha == null ? null : alpha.clone();
    }

    @Override
    protected float loss(Tensor<Float> input, Tensor<Float> target) {
        int n = input.size(1);
        int c = input.size(2);
        float[] a = SoftTargets.weights(alpha, c, "focal alpha");
        float[] t = SoftTargets.of(input, target);
        double[] logP = SoftTargets.logSoftmax(Tensors.toArray(input), n, c);
        double sum = 0;
        for (int i = 0; i < n * c; i++) {
            if (t[i] != 0) {
                double p = Math.exp(logP[i]);
                sum -= a[i % c] * t[i] * Math.pow(1 - p, gamma) * logP[i];
            }
        }
        return (float) (sum / n);
    }

    @Override
    protected void gradient(Tensor<Float> input, Tensor<Float> target, Tensor<Float> gradInput) {
        int n = input.size(1);
        int c = input.size(2);
        float[] alphas = SoftTargets.weights(alpha, c, "focal alpha");
        float[] t = SoftTargets.of(input, target);
        double[] logP = SoftTargets.logSoftmax(Tensors.toArray(input), n, c);
        float[] g = new float[n * c];
        double[] a = new double[c];
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int k = 0; k < c; k++) {
                double p = Math.exp(logP[i * c + k]);
                double q = 1 - p;
                // p * d/dp[(1 - p)^gamma log p] = (1 - p)^gamma - gamma p (1 - p)^(gamma - 1) log p; the second term
                // tends to 0 as p -> 1 for every gamma > 0
                double second = gamma == 0 || q == 0 ? 0 : gamma * p * Math.pow(q, gamma - 1) * logP[i * c + k];
                a[k] = t[i * c + k] == 0 ? 0 : alphas[k] * t[i * c + k] * (Math.pow(q, gamma) - second);
                sum += a[k];
            }
            for (int k = 0; k < c; k++) {
                g[i * c + k] = (float) ((Math.exp(logP[i * c + k]) * sum - a[k]) / n);
            }
        }
        gradInput.copy(Tensors.of(g, n, c));
    }
}
