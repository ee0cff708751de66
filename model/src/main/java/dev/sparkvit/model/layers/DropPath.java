package dev.sparkvit.model.layers;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatModule;
import dev.sparkvit.engine.StepContext;
import dev.sparkvit.engine.Tensors;

/**
 * Stochastic depth (Huang et al. 2016) per sample, as timm's {@code DropPath}: in training each sample's branch
 * output is zeroed with probability {@code rate} and the kept ones are scaled by {@code 1 / (1 - rate)}; in
 * evaluation it is the identity. Built only when the rate is positive.
 *
 * <p>No generator's next value is drawn: a per-thread generator's draws depend on which thread runs the layer, and
 * a counter would not survive a resume. Inside a barrier task's step ({@link StepContext} with
 * {@link StepContext.Draws}, set by {@code engine.DataParallelStep} for {@code engine.BarrierSegment}) a sample's
 * draw is a hash of the run's seed, the iteration, the sample's row in the <em>global</em> batch and the layer's
 * salt: the masks are those of one replica on the whole batch, whatever the tasks, and a segment run again from the
 * same start (a resume) draws the same ones. Outside such a step (no {@link StepContext.Draws}) it is a hash of the
 * sample's branch output and the salt: the branch output changes with the weights and the augmented input at every
 * step, so the draws are fresh at every step, and the same run (or a resumed one) draws the same masks.
 */
public final class DropPath extends FloatModule {
    private static final long serialVersionUID = 1L;

    private final double rate;
    private final long salt;
    private transient float[] sampleScale;

    /** @param salt distinguishes the layers' draws (for example the layer's position in the model) */
    public DropPath(double rate, long salt) {
        if (!(rate > 0 && rate < 1)) {
            throw new IllegalArgumentException("drop-path rate must be in (0, 1), got " + rate);
        }
        this.rate = rate;
        this.salt = salt;
    }

    public double rate() {
        return rate;
    }

    @Override
    public Tensor<Float> updateOutput(Tensor<Float> input) {
        Tensor<Float> x = Tensors.contiguous(input);
        Tensor<Float> y = outputTensor().resizeAs(x).copy(x);
        if (!isTraining()) {
            return y;
        }
        int batch = x.size(1);
        int per = Tensors.size(x) / batch;
        sampleScale = new float[batch];
        float keep = (float) (1.0 - rate);
        float[] ys = Tensors.data(y);
        int yo = Tensors.offset(y);
        StepContext context = StepContext.current();
        StepContext.Draws draws = context == null ? null : context.draws();
        for (int b = 0; b < batch; b++) {
            double u = draws != null ? draws.uniform(draws.globalRow(b, batch), salt)
                    : uniform(ys, yo + b * per, per, salt);
            sampleScale[b] = u < keep ? 1f / keep : 0f;
            for (int i = 0; i < per; i++) {
                ys[yo + b * per + i] *= sampleScale[b];
            }
        }
        return y;
    }

    /** A uniform draw in [0, 1) from the bits of {@code values[from, from + n)} and the salt (SplitMix64 mixing). */
    static double uniform(float[] values, int from, int n, long salt) {
        long h = 0x9e3779b97f4a7c15L ^ salt;
        for (int i = 0; i < n; i++) {
            h = (h ^ Float.floatToRawIntBits(values[from + i])) * 0xbf58476d1ce4e5b9L;
            h ^= h >>> 29;
        }
        h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
        h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
        h ^= h >>> 31;
        return (h >>> 11) * 0x1.0p-53;
    }

    @Override
    public Tensor<Float> updateGradInput(Tensor<Float> input, Tensor<Float> gradOutput) {
        Tensor<Float> dx = gradInputTensor().resizeAs(gradOutput).copy(gradOutput);
        if (!isTraining()) {
            return dx;
        }
        int batch = dx.size(1);
        int per = Tensors.size(dx) / batch;
        float[] ds = Tensors.data(dx);
        int dof = Tensors.offset(dx);
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < per; i++) {
                ds[dof + b * per + i] *= sampleScale[b];
            }
        }
        return dx;
    }

    @Override
    public String toString() {
        return "DropPath(" + rate + ")";
    }
}
