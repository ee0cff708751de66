package dev.sparkvit.engine;

/**
 * Training stopped before applying an iteration whose loss or averaged gradient was not finite: with
 * {@link NonFinitePolicy#stop()}, or with skipping once the run's bound of skipped steps was used up. Nothing of that
 * iteration reached the weights, the optimiser moments or the EMA.
 */
public final class NonFiniteTrainingException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final NonFiniteStep step;
    private final int skippedBefore;

    public NonFiniteTrainingException(NonFiniteStep step, int skippedBefore) {
        super("non-finite " + step.describe() + " at iteration " + (step.iteration() + 1) + " (epoch "
                + (step.epoch() + 1) + ")" + (skippedBefore > 0 ? " after " + skippedBefore + " skipped steps" : ""));
        this.step = step;
        this.skippedBefore = skippedBefore;
    }

    /** The iteration that was not applied. */
    public NonFiniteStep step() {
        return step;
    }

    /** Steps skipped earlier in the run (the bound was reached when this is its value). */
    public int skippedBefore() {
        return skippedBefore;
    }
}
