package dev.sparkvit.engine;

/**
 * What {@link NonFiniteGuard} decided about the current iteration, for every optimisation method and processor that
 * acts on it. Without accumulation an iteration is a step, and its verdict is {@link #APPLY} or {@link #DROP_STEP}.
 * Under {@link GradientAccumulation} of k micro-batches a non-finite micro-batch discards its gradient, and the step
 * of its whole group of k is dropped at the group's last micro-batch (as PyTorch's GradScaler skips a step whose
 * accumulated gradient overflowed).
 */
public enum StepVerdict {
    /** The gradient is finite: accumulate it, or step on it. */
    APPLY,
    /** The gradient of this micro-batch is non-finite and is not used; this iteration does not step anyway. */
    DISCARD_GRADIENT,
    /**
     * This iteration would step, and the step is dropped: no weight, moment or EMA changes; counters and schedules
     * move on as if it had been taken.
     */
    DROP_STEP
}
