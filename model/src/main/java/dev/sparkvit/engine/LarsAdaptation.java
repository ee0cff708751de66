package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import java.util.List;

/**
 * LARS (You, Gitman and Ginsburg 2017; the SimCLR recipe) in front of SGD with momentum: for every adapted parameter
 * tensor (weights; biases, norms, embeddings and gammas are left alone, as in SimCLR) the gradient becomes
 * {@code trust * (g + wd * w)} with {@code trust = eta * |w| / |g + wd * w|}; other tensors keep their plain gradient
 * and get no decay. Every barrier task holds the whole exchanged gradient, so the per-tensor norms need no exchange
 * ({@link #adaptWhole}).
 */
public final class LarsAdaptation implements GradientProcessor {
    private static final long serialVersionUID = 1L;

    private final double eta;
    private final double weightDecay;
    private final DecoupledWeightDecay.Range[] tensors;

    /**
     * @param eta trust coefficient (SimCLR: 0.001)
     * @param weightDecay coupled weight decay of the adapted tensors
     * @param tensors the adapted tensors' ranges of the flat buffer (their rates are not used)
     */
    public LarsAdaptation(double eta, double weightDecay, List<DecoupledWeightDecay.Range> tensors) {
        if (!(eta > 0) || !(weightDecay >= 0)) {
            throw new IllegalArgumentException("LARS needs eta > 0 and weight decay >= 0, got " + eta + " and "
                    + weightDecay);
        }
        this.eta = eta;
        this.weightDecay = weightDecay;
        this.tensors = tensors.toArray(new DecoupledWeightDecay.Range[0]);
    }

    /**
     * LARS on a replica holding the whole flat buffer and the whole (exchanged) gradient, as in a
     * {@link BarrierSegment} task: every tensor's norms from its own elements, no extra exchange.
     */
    public void adaptWhole(Tensor<Float> weights, Tensor<Float> gradients) {
        adapt(weights, gradients, 0, sums(weights, gradients, 0, tensors));
    }

    /** Per tensor: sum of w*w, g*g and w*g over the part of it inside this chunk. */
    static double[] sums(Tensor<Float> weights, Tensor<Float> gradients, int chunkStart,
            DecoupledWeightDecay.Range[] ranges) {
        double[] out = new double[3 * ranges.length];
        float[] w = Tensors.data(weights);
        float[] g = Tensors.data(gradients);
        int wo = Tensors.offset(weights);
        int go = Tensors.offset(gradients);
        int chunkEnd = chunkStart + Tensors.size(weights);
        for (int r = 0; r < ranges.length; r++) {
            int from = Math.max(chunkStart, ranges[r].start());
            int to = Math.min(chunkEnd, ranges[r].start() + ranges[r].length());
            for (int i = from; i < to; i++) {
                double wi = w[wo + i - chunkStart];
                double gi = g[go + i - chunkStart];
                out[3 * r] += wi * wi;
                out[3 * r + 1] += gi * gi;
                out[3 * r + 2] += wi * gi;
            }
        }
        return out;
    }

    /** Replaces the gradient of each adapted tensor's piece by {@code trust * (g + wd * w)}. */
    void adapt(Tensor<Float> weights, Tensor<Float> gradients, int chunkStart, double[] sums) {
        float[] w = Tensors.data(weights);
        float[] g = Tensors.data(gradients);
        int wo = Tensors.offset(weights);
        int go = Tensors.offset(gradients);
        int chunkEnd = chunkStart + Tensors.size(weights);
        for (int r = 0; r < tensors.length; r++) {
            int from = Math.max(chunkStart, tensors[r].start());
            int to = Math.min(chunkEnd, tensors[r].start() + tensors[r].length());
            if (from >= to) {
                continue;
            }
            double ww = sums[3 * r];
            double gg = sums[3 * r + 1];
            double wg = sums[3 * r + 2];
            double weightNorm = Math.sqrt(ww);
            double updateNorm = Math.sqrt(Math.max(0, gg + 2 * weightDecay * wg + weightDecay * weightDecay * ww));
            float trust = (float) (weightNorm > 0 && updateNorm > 0 ? eta * weightNorm / updateNorm : 1.0);
            float wd = (float) weightDecay;
            for (int i = from; i < to; i++) {
                g[go + i - chunkStart] = trust * (g[go + i - chunkStart] + wd * w[wo + i - chunkStart]);
            }
        }
    }
}
