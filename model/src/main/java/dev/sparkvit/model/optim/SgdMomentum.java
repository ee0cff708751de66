package dev.sparkvit.model.optim;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatOptimMethod;
import dev.sparkvit.engine.StatefulOptimMethod;
import dev.sparkvit.engine.Tensors;
import java.util.Map;

/**
 * SGD with heavy-ball momentum, as {@code torch.optim.SGD(momentum=mu, dampening=0)}: at step t with rate lr_t,
 * {@code buf = g} on the first step and {@code buf = mu * buf + g} after, then {@code p = p - lr_t * buf}
 * (with Nesterov, {@code p = p - lr_t * (g + mu * buf)}). Weight decay is not part of this method: the training
 * step applies decoupled decay to the decayed parameters only, before the methods
 * ({@link dev.sparkvit.engine.DecoupledWeightDecay}). A zero-rate step changes nothing, not even the momentum buffer,
 * so a FreezeOut-frozen group does not drift.
 */
public final class SgdMomentum extends FloatOptimMethod implements StatefulOptimMethod {
    private static final long serialVersionUID = 1L;

    private final LearningRateSchedule schedule;
    private final double momentum;
    private final boolean nesterov;
    private long step;
    private double currentRate;
    private float[] buffer;

    public SgdMomentum(LearningRateSchedule schedule, double momentum, boolean nesterov) {
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("SGD momentum must be in [0, 1), got " + momentum);
        }
        if (nesterov && momentum == 0) {
            throw new IllegalArgumentException("Nesterov SGD needs a positive momentum");
        }
        this.schedule = schedule;
        this.momentum = momentum;
        this.nesterov = nesterov;
    }

    @Override
    protected void update(Tensor<Float> parameters, Tensor<Float> gradients) {
        int n = Tensors.size(parameters);
        step++;
        currentRate = schedule.rate(step - 1);
        if (currentRate == 0) {
            return;
        }
        boolean first = buffer == null;
        if (first) {
            buffer = new float[n];
        } else if (buffer.length != n) {
            throw new IllegalStateException("SGD was given " + n + " parameters after " + buffer.length
                    + "; one method instance must always update the same slice");
        }
        float mu = (float) momentum;
        float lr = (float) currentRate;
        float[] p = Tensors.data(parameters);
        float[] g = Tensors.data(gradients);
        int po = Tensors.offset(parameters);
        int go = Tensors.offset(gradients);
        for (int i = 0; i < n; i++) {
            float grad = g[go + i];
            buffer[i] = first ? grad : mu * buffer[i] + grad;
            p[po + i] -= lr * (nesterov ? grad + mu * buffer[i] : buffer[i]);
        }
    }

    /** A step dropped by the non-finite guard: the step count moves on; weights and momentum stay as they were. */
    @Override
    protected void skipStep() {
        step++;
        currentRate = schedule.rate(step - 1);
    }

    @Override
    public long step() {
        return step;
    }

    @Override
    public Map<String, float[]> buffers() {
        return buffer == null ? Map.of() : Map.of("momentum_buffer", buffer.clone());
    }

    @Override
    public void restore(long steps, Map<String, float[]> buffers) {
        if (steps < 0) {
            throw new IllegalArgumentException("SGD step count must be >= 0, got " + steps);
        }
        float[] saved = buffers.get("momentum_buffer");
        this.step = steps;
        this.buffer = saved == null ? null : saved.clone();
    }

    @Override
    public double getLearningRate() {
        return currentRate;
    }

    @Override
    public void clearHistory() {
        buffer = null;
        step = 0;
    }

    @Override
    public String getHyperParameter() {
        return String.format("SGD lr %.3g, momentum %s%s, step %d", currentRate, momentum,
                nesterov ? " (Nesterov)" : "", step);
    }
}
