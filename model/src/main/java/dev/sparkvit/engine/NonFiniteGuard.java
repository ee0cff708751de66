package dev.sparkvit.engine;

import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rules for an iteration whose loss or exchanged gradient is not finite, as every {@link BarrierSegment} task
 * applies them (every task has the same loss and norm bits, so every task reaches the same verdict): a finite
 * iteration goes on (clipped by the caller when its norm exceeds the bound); a non-finite one stops under
 * {@link NonFinitePolicy#stop()} or once the bound of skipped steps is used up, and is skipped otherwise. The methods
 * get a {@link StepVerdict}: a dropped step changes no weight or moment and moves step counts and schedules on,
 * decoupled weight decay is not applied, and the EMA leaves out its next fold.
 */
public final class NonFiniteGuard {
    private static final Logger LOG = LoggerFactory.getLogger(NonFiniteGuard.class);

    private NonFiniteGuard() {
    }

    /** Whether an iteration of {@code iteration}'s accumulation group (of {@code stepEvery}) was skipped. */
    static boolean groupHasSkip(List<Long> skipped, long iteration, int stepEvery) {
        long group = iteration / stepEvery;
        for (long s : skipped) {
            if (s / stepEvery == group) {
                return true;
            }
        }
        return false;
    }

    /**
     * The rules: a finite iteration applies, unless it ends a group that lost a micro-batch; a non-finite one stops
     * (throws) when the policy stops or the bound is used up, else is skipped: its gradient discarded, and its
     * group's step dropped at the group's end.
     *
     * @param seen the iteration, its {@code skippedSoFar} the run's skips before it (as a stop reports it)
     * @param groupHasSkip whether an earlier micro-batch of its accumulation group was skipped
     */
    static StepVerdict decide(NonFinitePolicy policy, int stepEvery, NonFiniteStep seen, boolean groupHasSkip) {
        boolean groupEnd = (seen.iteration() + 1) % stepEvery == 0;
        if (finite(seen)) {
            return groupEnd && groupHasSkip ? StepVerdict.DROP_STEP : StepVerdict.APPLY;
        }
        if (!policy.skip() || seen.skippedSoFar() >= policy.maxSkipped()) {
            LOG.error("stopping: non-finite {} at iteration {} (epoch {})", seen.describe(), seen.iteration() + 1,
                    seen.epoch() + 1);
            throw new NonFiniteTrainingException(seen, seen.skippedSoFar());
        }
        return groupEnd ? StepVerdict.DROP_STEP : StepVerdict.DISCARD_GRADIENT;
    }

    /** Whether the iteration's loss and gradient norm are both finite. */
    static boolean finite(NonFiniteStep step) {
        return Double.isFinite(step.loss()) && Double.isFinite(step.gradientNorm());
    }
}
