package dev.sparkvit.engine;

import java.util.function.Supplier;

/**
 * What a layer may need to know about the data-parallel step running on its thread, set by {@link DataParallelStep}
 * around each forward and backward of a barrier task's replica (a thread-local: a task runs its replica on one
 * thread) and absent everywhere else (evaluation, the driver, a replica run on its own):
 * <ul>
 *   <li>{@link #gather()}: the stage's all-gather, for layers whose statistics span the global batch
 *       ({@code model.layers.SyncBatchNorm}); every task's replica makes the same calls in the same order, because
 *       the replicas are the same model;</li>
 *   <li>{@link #draws()}: the key of the iteration's random numbers ({@code model.layers.DropPath}): the run's seed,
 *       the 0-based iteration and where this task's slice sits in the global batch, so that a row's draw depends on
 *       (seed, iteration, the row's place in the global batch) only: the same on any layout of tasks, and the same
 *       when a segment is run again from the same start.</li>
 * </ul>
 */
public final class StepContext {
    private static final ThreadLocal<StepContext> CURRENT = new ThreadLocal<>();

    /** An all-gather of numbers: every task's {@code mine}, indexed by task (BarrierAllGather#doubles). */
    @FunctionalInterface
    public interface Gather {
        double[][] doubles(double[] mine);
    }

    /**
     * The random key of one iteration on one task.
     *
     * @param seed the run's seed
     * @param iteration the 0-based iteration
     * @param sliceOffset the global index of this task's first sample (the tasks' slices stacked in task order)
     * @param sliceSize n, this task's samples
     * @param globalBatch B, the global batch's samples
     */
    public record Draws(long seed, long iteration, int sliceOffset, int sliceSize, int globalBatch) {
        public Draws {
            if (sliceSize < 1 || sliceOffset < 0 || sliceOffset + sliceSize > globalBatch) {
                throw new IllegalArgumentException("a slice of " + sliceSize + " samples at " + sliceOffset
                        + " does not fit a global batch of " + globalBatch);
            }
        }

        /** One replica holding the whole global batch of {@code batch} samples at {@code iteration}. */
        public static Draws wholeBatch(long seed, long iteration, int batch) {
            return new Draws(seed, iteration, 0, batch, batch);
        }

        /**
         * The global index of local row {@code row} of a batch of {@code rows} rows: the rows are blocks of the
         * slice's n samples (one block per view: a SimCLR model joins its first views, then its second), so local
         * row {@code v * n + i} is global row {@code v * B + offset + i}, as one replica on the whole batch joins them.
         */
        public long globalRow(int row, int rows) {
            if (rows % sliceSize != 0) {
                throw new IllegalStateException("a batch of " + rows + " rows is not whole blocks of the slice's "
                        + sliceSize + " samples");
            }
            return (long) (row / sliceSize) * globalBatch + sliceOffset + row % sliceSize;
        }

        /**
         * A uniform draw in [0, 1) for global row {@code row} and a layer's {@code salt}: SplitMix64's finaliser over
         * the seed, iteration, row and salt.
         */
        public double uniform(long row, long salt) {
            long h = mix(seed ^ 0x9e3779b97f4a7c15L);
            h = mix(h ^ iteration);
            h = mix(h ^ row);
            h = mix(h ^ salt);
            return (h >>> 11) * 0x1.0p-53;
        }

        private static long mix(long z) {
            z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
            z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
            return z ^ (z >>> 31);
        }
    }

    private final Gather gather;
    private final Draws draws;

    /**
     * @param gather the stage's all-gather, or null (one replica on the whole batch)
     * @param draws the iteration's random key, or null (layers then draw as they do outside a step)
     */
    public StepContext(Gather gather, Draws draws) {
        this.gather = gather;
        this.draws = draws;
    }

    /** The context of the step running on this thread, or null outside one. */
    public static StepContext current() {
        return CURRENT.get();
    }

    /** Runs {@code body} with this context on the calling thread, then restores the previous one. */
    public <T> T run(Supplier<T> body) {
        StepContext previous = CURRENT.get();
        CURRENT.set(this);
        try {
            return body.get();
        } finally {
            if (previous == null) {
                CURRENT.remove();
            } else {
                CURRENT.set(previous);
            }
        }
    }

    /** The stage's all-gather; null when the replica holds the whole batch. */
    public Gather gather() {
        return gather;
    }

    /** The iteration's random key; null when the step was given none. */
    public Draws draws() {
        return draws;
    }
}
