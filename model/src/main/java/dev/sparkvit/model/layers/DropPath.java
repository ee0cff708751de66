package dev.sparkvit.model.layers;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatModule;
import dev.sparkvit.engine.Randoms;
import dev.sparkvit.engine.Tensors;

/**
 * Stochastic depth (Huang et al. 2016) per sample, as timm's {@code DropPath}: in training each sample's branch
 * output is zeroed with probability {@code rate} and the kept ones are scaled by {@code 1 / (1 - rate)}; in
 * evaluation it is the identity. Built only when the rate is positive.
 */
public final class DropPath extends FloatModule {
    private static final long serialVersionUID = 1L;

    private final double rate;
    private transient float[] sampleScale;

    public DropPath(double rate) {
        if (!(rate > 0 && rate < 1)) {
            throw new IllegalArgumentException("drop-path rate must be in (0, 1), got " + rate);
        }
        this.rate = rate;
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
        for (int b = 0; b < batch; b++) {
            sampleScale[b] = Randoms.uniform() < keep ? 1f / keep : 0f;
            for (int i = 0; i < per; i++) {
                ys[yo + b * per + i] *= sampleScale[b];
            }
        }
        return y;
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
