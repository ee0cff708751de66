package dev.sparkvit.jobs.train;

import dev.sparkvit.checkpoint.CheckpointStore;
import dev.sparkvit.engine.BigDlEngine;
import dev.sparkvit.engine.ExecutorWatch;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.apache.spark.SparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training jobs' retry from checkpoint. A lost executor fails the segment's barrier stage as a whole (Spark does
 * not retry a barrier stage's task alone), so without this it ends the run. Here an attempt that fails in a way a restart cures
 * ({@link RestartableFailure}) is followed, up to {@link RestartPolicy#maxRestarts()} times, by a new attempt built
 * from the newest valid checkpoint exactly as {@code --resume} builds one (weights, EMA, optimiser moments, data
 * position), after the cluster has as many executors again as DLlib's Engine counted. Each restart prints one line
 * naming the failure, the checkpoint and the attempt.
 */
public final class TrainingRestarts {
    private static final Logger LOG = LoggerFactory.getLogger(TrainingRestarts.class);

    private TrainingRestarts() {
    }

    /**
     * How an attempt starts: from the newest valid checkpoint ({@code resume}) or from scratch, as attempt
     * {@code attempt} (0 = the first), watching the executors it starts with.
     */
    public record Start(boolean resume, int attempt, ExecutorWatch executors) {
        /** Whether an earlier attempt of this process wrote TensorBoard events (the new one continues them). */
        public boolean restarted() {
            return attempt > 0;
        }
    }

    /** One attempt of a training job. */
    @FunctionalInterface
    public interface Attempt<R> {
        R run(Start start);
    }

    /**
     * Runs {@code attempt} until it returns, restarting it after restartable failures within {@code policy}. After
     * every failed attempt, restarted or not, {@code abandon} releases what that attempt cached.
     *
     * @param job the job's name for the console line ("pretrain")
     * @param resume whether the first attempt resumes from a checkpoint (--resume)
     */
    public static <R> R run(String job, RestartPolicy policy, SparkContext sc, CheckpointStore store, boolean resume,
            PrintStream console, Attempt<R> attempt, Runnable abandon) {
        boolean fromCheckpoint = resume;
        for (int restarts = 0;; restarts++) {
            ExecutorWatch executors = restarts == 0 ? ExecutorWatch.of(sc)
                    : ExecutorWatch.await(sc, BigDlEngine.nodeNumber(), policy.waitSeconds());
            try {
                return attempt.run(new Start(fromCheckpoint, restarts, executors));
            } catch (Exception failure) { // DLlib rethrows a failed iteration as a checked InvalidOperationException
                abandon.run();
                Optional<String> why = RestartableFailure.reason(failure, executors.lost());
                if (why.isEmpty()) {
                    throw failure;
                }
                if (restarts >= policy.maxRestarts()) {
                    String line = job + ": " + why.get() + " (" + firstLine(failure) + "); "
                            + (policy.maxRestarts() == 0 ? "no restart (training.max_restarts = 0)"
                            : "no restart left after " + restarts + " (training.max_restarts = " + policy.maxRestarts()
                            + ")") + "; --resume continues from the newest checkpoint";
                    LOG.error(line);
                    console.println(line);
                    throw failure;
                }
                List<Path> checkpoints = store.list();
                fromCheckpoint = !checkpoints.isEmpty();
                String line = job + ": restart " + (restarts + 1) + " of at most " + policy.maxRestarts()
                        + " (training.max_restarts) after " + why.get() + " (" + firstLine(failure) + "); "
                        + (fromCheckpoint ? "continuing from checkpoint " + checkpoints.get(0)
                        : "no checkpoint yet: starting again from iteration 0") + " once " + BigDlEngine.nodeNumber()
                        + " executor(s) are registered";
                LOG.warn(line, failure);
                console.println(line);
            }
        }
    }

    /** The first line of a failure's message, at most 300 characters (Spark's carry whole stack traces). */
    static String firstLine(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getMessage() != null && root.getCause().getMessage() != null
                && root.getMessage().contains(root.getCause().getMessage())) {
            root = root.getCause(); // DLlib wraps the cause's message unchanged: show the innermost such
        }
        String text = root.getClass().getSimpleName() + ": " + String.valueOf(root.getMessage()).lines()
                .findFirst().orElse("").strip();
        return text.length() <= 300 ? text : text.substring(0, 297) + "...";
    }
}
