package dev.sparkvit.model.optim;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatOptimMethod;
import dev.sparkvit.engine.StatefulOptimMethod;
import dev.sparkvit.engine.Tensors;
import java.util.Map;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter 2019), as {@code torch.optim.AdamW}: at step t with
 * learning rate lr_t from the schedule,
 * <pre>
 *   p = p - lr_t * wd * p
 *   m = b1 m + (1 - b1) g ;  v = b2 v + (1 - b2) g^2
 *   p = p - lr_t * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 * </pre>
 * Replaces DLlib's AdamWeightDecay (docs/ENGINE.md, defect 3). Weight decay applies to every element this method
 * is given; parameters excluded from decay need a method (group) of their own or a decay of zero. A step whose
 * scheduled rate is 0 changes nothing at all, neither weights nor moments: that is how FreezeOut freezes a group.
 */
public final class AdamW extends FloatOptimMethod implements StatefulOptimMethod {
    private static final long serialVersionUID = 1L;

    private final LearningRateSchedule schedule;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private long step;
    private double currentRate;
    private float[] m;
    private float[] v;
    /** Chunks of parameters, gradients and moments copied to index-0 arrays, where the JIT vectorises the update. */
    private transient float[][] scratch;
    private static final int CHUNK = 2048;

    public AdamW(LearningRateSchedule schedule, double beta1, double beta2, double eps, double weightDecay) {
        if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1) || !(eps > 0) || weightDecay < 0) {
            throw new IllegalArgumentException("AdamW needs betas in [0, 1), eps > 0, weight decay >= 0; got "
                    + beta1 + ", " + beta2 + ", " + eps + ", " + weightDecay);
        }
        this.schedule = schedule;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /** PyTorch's defaults: betas (0.9, 0.999), eps 1e-8. */
    public static AdamW of(LearningRateSchedule schedule, double weightDecay) {
        return new AdamW(schedule, 0.9, 0.999, 1e-8, weightDecay);
    }

    @Override
    public long step() {
        return step;
    }

    @Override
    public Map<String, float[]> buffers() {
        if (m == null) {
            return Map.of();
        }
        Map<String, float[]> buffers = new java.util.LinkedHashMap<>(); // a fixed order: checkpoints are byte-stable
        buffers.put("exp_avg", m.clone());
        buffers.put("exp_avg_sq", v.clone());
        return buffers;
    }

    @Override
    public void restore(long steps, Map<String, float[]> buffers) {
        float[] avg = buffers.get("exp_avg");
        float[] avgSq = buffers.get("exp_avg_sq");
        if (steps < 0 || (avg == null) != (avgSq == null) || (avg != null && avg.length != avgSq.length)) {
            throw new IllegalArgumentException("AdamW state needs a step count >= 0 and exp_avg and exp_avg_sq of "
                    + "one length; got step " + steps + " and buffers " + buffers.keySet());
        }
        this.step = steps;
        this.m = avg == null ? null : avg.clone();
        this.v = avgSq == null ? null : avgSq.clone();
    }

    @Override
    protected void update(Tensor<Float> parameters, Tensor<Float> gradients) {
        int n = Tensors.size(parameters);
        if (m == null) {
            m = new float[n];
            v = new float[n];
        } else if (m.length != n) {
            throw new IllegalStateException("AdamW was given " + n + " parameters after " + m.length
                    + "; one method instance must always update the same slice");
        }
        step++;
        currentRate = schedule.rate(step - 1);
        if (currentRate == 0) {
            return; // frozen (or a zero-rate step): no decay, no moment drift
        }
        float decay = (float) (1 - currentRate * weightDecay);
        float b1 = (float) beta1;
        float b2 = (float) beta2;
        double correction1 = 1 - Math.pow(beta1, step);
        float correction2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, step));
        float stepSize = (float) (currentRate / correction1);
        float e = (float) eps;
        float[] p = Tensors.data(parameters);
        float[] g = Tensors.data(gradients);
        int po = Tensors.offset(parameters);
        int go = Tensors.offset(gradients);
        if (scratch == null) {
            scratch = new float[4][CHUNK];
        }
        float[] pc = scratch[0];
        float[] gc = scratch[1];
        float[] mc = scratch[2];
        float[] vc = scratch[3];
        float a1 = 1 - b1;
        float a2 = 1 - b2;
        for (int start = 0; start < n; start += CHUNK) {
            int len = Math.min(CHUNK, n - start);
            System.arraycopy(p, po + start, pc, 0, len);
            System.arraycopy(g, go + start, gc, 0, len);
            System.arraycopy(m, start, mc, 0, len);
            System.arraycopy(v, start, vc, 0, len);
            for (int i = 0; i < len; i++) {
                float grad = gc[i];
                mc[i] = b1 * mc[i] + a1 * grad;
                vc[i] = b2 * vc[i] + a2 * grad * grad;
                pc[i] = pc[i] * decay - stepSize * mc[i] / ((float) Math.sqrt(vc[i]) / correction2Sqrt + e);
            }
            System.arraycopy(pc, 0, p, po + start, len);
            System.arraycopy(mc, 0, m, start, len);
            System.arraycopy(vc, 0, v, start, len);
        }
    }

    /**
     * A step dropped by the non-finite guard: the step count moves on (the schedule, and the bias correction of the
     * following steps, count it as taken, as a zero-rate step does); weights and moments stay as they were.
     */
    @Override
    protected void skipStep() {
        step++;
        currentRate = schedule.rate(step - 1);
    }

    @Override
    public double getLearningRate() {
        return currentRate;
    }

    @Override
    public void clearHistory() {
        m = null;
        v = null;
        step = 0;
    }

    @Override
    public String getHyperParameter() {
        return String.format("AdamW lr %.3g, betas (%s, %s), eps %s, weight decay %s, step %d", currentRate, beta1,
                beta2, eps, weightDecay, step);
    }
}
