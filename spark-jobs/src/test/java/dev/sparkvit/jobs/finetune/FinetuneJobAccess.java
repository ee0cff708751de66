package dev.sparkvit.jobs.finetune;

/** The fine-tuning job's test hooks, for tests outside this package. */
public final class FinetuneJobAccess {
    private FinetuneJobAccess() {
    }

    /** The job, stopping after the first segment that reaches {@code iteration}. */
    public static FinetuneJob stoppingAfter(FinetuneJob job, long iteration) {
        return job.stopAfter(iteration);
    }
}
