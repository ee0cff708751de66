package dev.sparkvit.jobs.train;

/**
 * A training job stopped at an iteration whose loss or gradient was not finite (training.non_finite = stop, or more
 * non-finite steps than training.max_skipped_steps). The message is one line: the job, the iteration and epoch,
 * what was not finite, and the checkpoint to resume from. Nothing was written after that checkpoint.
 */
public final class TrainingDivergedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TrainingDivergedException(String message, Throwable cause) {
        super(message, cause);
    }
}
