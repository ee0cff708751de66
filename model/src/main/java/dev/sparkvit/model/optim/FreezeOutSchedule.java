package dev.sparkvit.model.optim;

/**
 * FreezeOut (Brock et al. 2017; design notes, seed 003): block i of L trains until iteration t_i * T and is frozen
 * from then on, where {@code t_i = scale(t0 + (1 - t0) * i / (L - 1))} with scale the identity, square or cube
 * (default cube with t0 = 0.8, as the reference) and T the real total iteration count. Each block's learning rate
 * rises linearly over the shared warmup, then follows its own cosine from its base rate to 0 at t_i * T; the base
 * rate is lr, or lr / t_i with {@code scaleLr} (so every block covers the same area under its curve). The stem
 * (patch embedding, class token, position embedding) freezes with block 0, so the frozen part is always a prefix and
 * backward can stop at it; the neck and head train for all T iterations.
 *
 * @param depth number of blocks L
 * @param t0 the first block's fraction before scaling, in (0, 1]
 * @param scaling how fractions are scaled
 * @param totalIterations T
 * @param warmupIterations shared linear warmup, shorter than the first block's training
 * @param learningRate base lr
 * @param scaleLr divide each block's base rate by t_i
 */
public record FreezeOutSchedule(int depth, double t0, Scaling scaling, long totalIterations, long warmupIterations,
        double learningRate, boolean scaleLr) implements java.io.Serializable {

    /** How block fractions are scaled. */
    public enum Scaling {
        LINEAR, SQUARED, CUBIC;

        double apply(double t) {
            return switch (this) {
                case LINEAR -> t;
                case SQUARED -> t * t;
                case CUBIC -> t * t * t;
            };
        }
    }

    public FreezeOutSchedule {
        if (depth < 1 || !(t0 > 0 && t0 <= 1) || totalIterations < 1 || warmupIterations < 0 || !(learningRate > 0)) {
            throw new IllegalArgumentException("FreezeOut needs depth >= 1, t0 in (0, 1], T >= 1, warmup >= 0 and "
                    + "lr > 0; got depth " + depth + ", t0 " + t0 + ", T " + totalIterations + ", warmup "
                    + warmupIterations + ", lr " + learningRate);
        }
        long firstStop = Math.round(scaling.apply(t0) * totalIterations);
        if (warmupIterations >= firstStop) {
            throw new IllegalArgumentException("FreezeOut warmup of " + warmupIterations + " iterations must end before "
                    + "block 0 freezes at iteration " + firstStop);
        }
    }

    /** The standard setting: cubic scaling of t0 = 0.8. */
    public static FreezeOutSchedule standard(int depth, long totalIterations, long warmupIterations,
            double learningRate) {
        return new FreezeOutSchedule(depth, 0.8, Scaling.CUBIC, totalIterations, warmupIterations, learningRate, false);
    }

    /** t_i: the fraction of training block i takes part in. */
    public double fraction(int block) {
        if (block < 0 || block >= depth) {
            throw new IllegalArgumentException("block " + block + " is outside 0.." + (depth - 1));
        }
        double linear = depth == 1 ? 1.0 : t0 + (1 - t0) * block / (depth - 1);
        return scaling.apply(linear);
    }

    /** The first iteration at which block {@code block} no longer changes: round(t_i * T). */
    public long frozenAfterIteration(int block) {
        return Math.round(fraction(block) * totalIterations);
    }

    /** The schedule of block {@code block} (also the stem's, for block 0). */
    public LearningRateSchedule forBlock(int block) {
        double base = scaleLr ? learningRate / fraction(block) : learningRate;
        long stop = frozenAfterIteration(block);
        long warmup = warmupIterations;
        return iteration -> {
            if (iteration >= stop) {
                return 0.0;
            }
            if (iteration < warmup) {
                return base * (iteration + 1) / warmup;
            }
            return 0.5 * base * (1 + Math.cos(Math.PI * (iteration - warmup) / (stop - warmup)));
        };
    }

    /** The schedule of the parts that never freeze (neck and head): warmup, then cosine to 0 at T. */
    public LearningRateSchedule forUnfrozen() {
        return new WarmupCosine(learningRate, warmupIterations, totalIterations, 0.0);
    }

    /** How many leading blocks are frozen at {@code iteration} (the stem is frozen whenever block 0 is). */
    public int frozenPrefix(long iteration) {
        int frozen = 0;
        while (frozen < depth && iteration >= frozenAfterIteration(frozen)) {
            frozen++;
        }
        return frozen;
    }
}
