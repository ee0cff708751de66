package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Gradient accumulation around one of sparkvit's methods: each training iteration is a micro-batch, and every
 * {@code steps}-th call the wrapped method takes one step on the mean of the last {@code steps} gradients; the calls
 * in between leave the weights alone. With equal micro-batches and a mean loss, the step equals one step on their
 * union, at the memory of one micro-batch.
 *
 * <p>Counting: call t (0-based) steps when {@code (t + 1) % steps == 0}; so the wrapped method's step s happens at
 * call {@code (s + 1) * steps - 1}, and its schedule runs in steps, not calls. Processors that act on the weights
 * (decoupled weight decay) must apply on those calls only: {@link DecoupledWeightDecay#everySteps}.
 *
 * <p>Under {@link NonFiniteGuard} a non-finite micro-batch is left out of the sum and the step of its group is dropped
 * ({@link StepVerdict}); the call count, and so the grouping of the following micro-batches, is unchanged.
 */
public final class GradientAccumulation<M extends FloatOptimMethod & StatefulOptimMethod> extends FloatOptimMethod
        implements StatefulOptimMethod {
    private static final long serialVersionUID = 1L;
    private static final String BUFFER = "accumulated_grad";

    private final M inner;
    private final int steps;
    private long calls;
    private float[] sum;

    public GradientAccumulation(M inner, int steps) {
        if (steps < 1) {
            throw new IllegalArgumentException("gradient accumulation needs at least 1 step, got " + steps);
        }
        this.inner = inner;
        this.steps = steps;
    }

    public M inner() {
        return inner;
    }

    @Override
    protected void update(Tensor<Float> parameters, Tensor<Float> gradients) {
        apply(parameters, gradients, StepVerdict.APPLY);
    }

    /**
     * One micro-batch under the non-finite guard's verdict: a finite gradient is added to the group's sum; a
     * non-finite one is not. On the group's last call the wrapped method steps on the mean, unless the guard dropped
     * the step (some micro-batch of the group was non-finite): then the sum is discarded and the wrapped method only
     * counts the step ({@link FloatOptimMethod#skipStep}).
     */
    @Override
    protected void apply(Tensor<Float> parameters, Tensor<Float> gradients, StepVerdict verdict) {
        int n = Tensors.size(gradients);
        if (sum == null) {
            sum = new float[n];
        } else if (sum.length != n) {
            throw new IllegalStateException("gradient accumulation was given " + n + " elements after " + sum.length);
        }
        if (verdict == StepVerdict.APPLY) {
            float[] g = Tensors.data(gradients);
            int go = Tensors.offset(gradients);
            for (int i = 0; i < n; i++) {
                sum[i] += g[go + i];
            }
        }
        calls++;
        if (calls % steps != 0) {
            return;
        }
        if (verdict != StepVerdict.APPLY) {
            java.util.Arrays.fill(sum, 0f);
            inner.skipStep();
            return;
        }
        float[] mean = new float[n];
        for (int i = 0; i < n; i++) {
            mean[i] = sum[i] / steps;
        }
        java.util.Arrays.fill(sum, 0f);
        inner.update(parameters, Tensors.of(mean, n));
    }

    /** A dropped call without its gradient: counted; at the group's end the wrapped method skips its step. */
    @Override
    protected void skipStep() {
        calls++;
        if (calls % steps == 0) {
            if (sum != null) {
                java.util.Arrays.fill(sum, 0f);
            }
            inner.skipStep();
        }
    }

    /** Micro-batches per step. */
    public int steps() {
        return steps;
    }

    /** Calls so far (micro-batches), so that a restored instance knows where in a group it is. */
    @Override
    public long step() {
        return calls;
    }

    @Override
    public Map<String, float[]> buffers() {
        Map<String, float[]> buffers = new LinkedHashMap<>(inner.buffers());
        if (sum != null) {
            buffers.put(BUFFER, sum.clone());
        }
        return buffers;
    }

    @Override
    public void restore(long step, Map<String, float[]> buffers) {
        Map<String, float[]> own = new LinkedHashMap<>(buffers);
        float[] accumulated = own.remove(BUFFER);
        inner.restore(step / steps, own);
        this.calls = step;
        this.sum = accumulated == null ? null : accumulated.clone();
    }

    @Override
    public double getLearningRate() {
        return inner.getLearningRate();
    }

    @Override
    public void clearHistory() {
        inner.clearHistory();
        calls = 0;
        sum = null;
    }

    @Override
    public String getHyperParameter() {
        return inner.getHyperParameter() + ", gradient accumulation " + steps;
    }
}
