package dev.sparkvit.jobs.train;

import dev.sparkvit.engine.ExecutorWatch;
import dev.sparkvit.engine.NonFiniteTrainingException;
import java.util.List;
import java.util.Optional;

/**
 * Which failures of a training attempt a restart from the newest checkpoint (in the same driver) can cure: those
 * where the distributed training state was lost, not those the same inputs would repeat. Restartable:
 * <ul>
 *   <li>an executor the attempt started with is gone ({@link ExecutorWatch#lost()}), whatever the exception said:
 *       its barrier task and exchange blocks went with it;
 *   <li>the failure names lost executor state: Spark's {@code ExecutorLostFailure} or {@code FetchFailed}, or the
 *       exchange's "block ... is on no executor" ({@code engine.FloatBlocks}), which is what a barrier task sees
 *       when the executor holding a block it reads has died (a task that finds a block gone because its peer
 *       failed is killed before it reports this: the stage fails with the peer's own reason).
 * </ul>
 * Never restartable: a non-finite loss or gradient ({@link NonFiniteTrainingException}; the guard's stop is a
 * decision, and the same data would stop again), a stopped SparkContext (only a new driver can continue: use
 * {@code --resume}), and anything else: a configuration error, a bug or bad data thrown inside a task (the same
 * input fails again), a checkpoint or file error.
 */
public final class RestartableFailure {
    private static final List<String> LOST_STATE = List.of("ExecutorLostFailure", "FetchFailed",
            "is on no executor");
    private static final List<String> DRIVER_GONE = List.of("stopped SparkContext", "SparkContext was shut down");

    private RestartableFailure() {
    }

    /**
     * Why {@code failure} may be cured by a restart (a short reason for the restart line), or empty when it must end
     * the run. {@code lostExecutors}: executors the attempt started with that are gone.
     */
    public static Optional<String> reason(Throwable failure, List<String> lostExecutors) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof NonFiniteTrainingException || t instanceof TrainingDivergedException) {
                return Optional.empty();
            }
            String message = String.valueOf(t.getMessage());
            if (DRIVER_GONE.stream().anyMatch(message::contains)) {
                return Optional.empty();
            }
        }
        if (!lostExecutors.isEmpty()) {
            return Optional.of("executor " + String.join(", ", lostExecutors) + " lost");
        }
        for (Throwable t = failure; t != null; t = t.getCause()) {
            String message = String.valueOf(t.getMessage());
            for (String signature : LOST_STATE) {
                if (message.contains(signature)) {
                    return Optional.of("lost executor state (" + signature + ")");
                }
            }
        }
        return Optional.empty();
    }
}
