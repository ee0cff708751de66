package dev.sparkvit.jobs.train;

/**
 * How a training job continues after its Spark work failed in a way a restart cures (an executor lost;
 * {@link RestartableFailure}): at most {@code maxRestarts} restarts from the newest valid checkpoint in the same driver
 * ({@code training.max_restarts}; 0 = fail as before), each after waiting up to {@code waitSeconds} for the executors
 * to be back ({@code training.restart_wait_seconds}).
 */
public record RestartPolicy(int maxRestarts, int waitSeconds) {
    /** No restart: the first failure ends the run. */
    public static final RestartPolicy NONE = new RestartPolicy(0, 1);

    public RestartPolicy {
        if (maxRestarts < 0 || waitSeconds < 1) {
            throw new IllegalArgumentException("restarts need maxRestarts >= 0 and waitSeconds >= 1; got "
                    + maxRestarts + ", " + waitSeconds);
        }
    }
}
