package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import java.io.Serializable;
import java.util.List;

/**
 * Decoupled weight decay (Loshchilov and Hutter 2019) of chosen parameters: before the optimisation methods step,
 * every decayed element is multiplied by {@code 1 - lr_t * wd}, where lr_t is its group's scheduled rate at this
 * iteration; elements outside the ranges (biases, norms, embeddings, LayerScale gammas) are never decayed: the
 * no-weight-decay set lives here, as ranges of the flat buffer. A group whose rate is 0 (frozen by FreezeOut) is not
 * decayed either. The order matches {@code torch.optim.AdamW}: decay, then the update. A step dropped by
 * {@link NonFiniteGuard} is not decayed ({@link BarrierSegment} does not call it then).
 */
public final class DecoupledWeightDecay implements GradientProcessor {
    private static final long serialVersionUID = 1L;

    /** A learning rate as a function of the 0-based iteration. */
    @FunctionalInterface
    public interface Rate extends Serializable {
        double at(long iteration);
    }

    /**
     * Decayed elements {@code [start, start + length)} of the flat parameter buffer (0-based), following a rate.
     */
    public record Range(int start, int length, Rate rate) implements Serializable {
        public Range {
            if (start < 0 || length < 1) {
                throw new IllegalArgumentException("a decay range needs start >= 0 and length >= 1, got " + start
                        + " and " + length);
            }
        }
    }

    private final double weightDecay;
    private final Range[] ranges;
    private final int every;

    public DecoupledWeightDecay(double weightDecay, List<Range> ranges) {
        this(weightDecay, ranges, 1);
    }

    private DecoupledWeightDecay(double weightDecay, List<Range> ranges, int every) {
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
        }
        if (every < 1) {
            throw new IllegalArgumentException("weight decay every " + every + " iterations: expected at least 1");
        }
        this.weightDecay = weightDecay;
        this.ranges = ranges.toArray(new Range[0]);
        this.every = every;
    }

    /**
     * The same decay under {@link GradientAccumulation} of {@code steps} micro-batches: applied only on the
     * iterations that step ({@code (t + 1) % steps == 0}), at the rate of step {@code t / steps}.
     */
    public DecoupledWeightDecay everySteps(int steps) {
        return new DecoupledWeightDecay(weightDecay, List.of(ranges), steps);
    }

    /** The range of one parameter tensor of a model whose parameters were compacted by {@code getParameters()}. */
    public static Range rangeOf(Tensor<Float> parameter, Rate rate) {
        return new Range(parameter.storageOffset() - 1, parameter.nElement(), rate);
    }

    /** The decayed ranges. */
    public List<Range> ranges() {
        return List.of(ranges);
    }

    public double weightDecay() {
        return weightDecay;
    }

    /** Decays the elements of {@code chunk}, which holds flat elements {@code [chunkStart, chunkStart + n)}. */
    void apply(Tensor<Float> chunk, int chunkStart, long iteration) {
        if (weightDecay == 0 || (iteration + 1) % every != 0) {
            return;
        }
        long step = iteration / every;
        float[] data = Tensors.data(chunk);
        int offset = Tensors.offset(chunk);
        int chunkEnd = chunkStart + Tensors.size(chunk);
        for (Range range : ranges) {
            int from = Math.max(chunkStart, range.start());
            int to = Math.min(chunkEnd, range.start() + range.length());
            if (from >= to) {
                continue;
            }
            double rate = range.rate().at(step);
            if (rate == 0) {
                continue;
            }
            float factor = (float) (1 - rate * weightDecay);
            for (int i = from; i < to; i++) {
                data[offset + i - chunkStart] *= factor;
            }
        }
    }
}
