package dev.sparkvit.engine;

import java.io.Serializable;

/**
 * What training does when an iteration's loss or averaged gradient is not finite (NaN or infinite): {@link #stop()}
 * ends training before the poisoned update, {@link #skip(int)} drops that step on every replica alike and goes on,
 * at most {@code maxSkipped} times in a run, then stops as well.
 *
 * @param skip false: stop at the first non-finite iteration; true: skip up to {@code maxSkipped} steps
 * @param maxSkipped steps a run may skip (0 with stop)
 */
public record NonFinitePolicy(boolean skip, int maxSkipped) implements Serializable {
    public NonFinitePolicy {
        if (skip ? maxSkipped < 1 : maxSkipped != 0) {
            throw new IllegalArgumentException(skip ? "skipping non-finite steps needs a bound of at least 1, got "
                    + maxSkipped : "stopping at a non-finite step takes no bound, got " + maxSkipped);
        }
    }

    /** Stop at the first non-finite loss or gradient. */
    public static NonFinitePolicy stop() {
        return new NonFinitePolicy(false, 0);
    }

    /** Skip non-finite steps, at most {@code maxSkipped} in a run; the next one stops. */
    public static NonFinitePolicy skip(int maxSkipped) {
        return new NonFinitePolicy(true, maxSkipped);
    }

    @Override
    public String toString() {
        return skip ? "skip (at most " + maxSkipped + ")" : "stop";
    }
}
