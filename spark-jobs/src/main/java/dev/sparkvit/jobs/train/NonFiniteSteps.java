package dev.sparkvit.jobs.train;

import dev.sparkvit.checkpoint.CheckpointStore;
import dev.sparkvit.engine.NonFinitePolicy;
import dev.sparkvit.engine.NonFiniteStep;
import dev.sparkvit.engine.NonFiniteTrainingException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * How the training jobs report iterations whose loss or averaged gradient was not finite: a console line and a
 * TensorBoard scalar for each skipped step, epoch losses over the applied iterations only, and the one-line error
 * of a run that stopped.
 */
public final class NonFiniteSteps {
    /** TensorBoard scalar: the run's count of skipped steps, at the skipped iteration's step. */
    public static final String SKIPPED_SCALAR = "non_finite/skipped_steps";

    private NonFiniteSteps() {
    }

    /** Where a reporter writes its scalar: the run's TensorBoard events. */
    @FunctionalInterface
    public interface Scalar {
        void add(String tag, double value, long step);
    }

    /** Reports a skipped step as it happens: one console line and the scalar {@value #SKIPPED_SCALAR}. */
    public static Consumer<NonFiniteStep> reporter(String job, Scalar scalar, PrintStream console,
            long totalIterations, NonFinitePolicy policy) {
        return step -> {
            console.printf("%s: iteration %d/%d (epoch %d): non-finite %s; step skipped (%d of at most %d, "
                    + "training.max_skipped_steps)%n", job, step.iteration() + 1, totalIterations, step.epoch() + 1,
                    step.describe(), step.skippedSoFar(), policy.maxSkipped());
            scalar.add(SKIPPED_SCALAR, step.skippedSoFar(), step.iteration() + 1);
        };
    }

    /** Mean loss of an epoch's iterations {@code [first, first + losses.length)}, without the skipped ones. */
    public record EpochLoss(double mean, int skipped) {
        /** The console's note on skipped steps ("" when none). */
        public String note() {
            return skipped == 0 ? "" : "  (" + skipped + " step" + (skipped == 1 ? "" : "s") + " skipped)";
        }
    }

    public static EpochLoss epochLoss(float[] losses, long firstIteration, List<Long> skipped) {
        int applied = 0;
        for (int i = 0; i < losses.length; i++) {
            applied += skipped.contains(firstIteration + i) ? 0 : 1;
        }
        double mean = 0;
        for (int i = 0; i < losses.length; i++) {
            if (!skipped.contains(firstIteration + i)) {
                mean += losses[i] / applied; // summed as the monitors always did: fault-free numbers are unchanged
            }
        }
        return new EpochLoss(applied == 0 ? Double.NaN : mean, losses.length - applied);
    }

    /**
     * The job's error for a run the guard stopped: job, iteration of the total, epoch, what was not finite, and the
     * newest checkpoint of {@code store} (written before the stop, and untouched since) to resume from.
     */
    public static TrainingDivergedException stopped(String job, NonFiniteTrainingException stop, long totalIterations,
            NonFinitePolicy policy, CheckpointStore store) {
        NonFiniteStep step = stop.step();
        List<Path> checkpoints = store.list();
        String bound = policy.skip() ? " after " + stop.skippedBefore() + " skipped steps (training.max_skipped_steps"
                + " = " + policy.maxSkipped() + ")" : "";
        String resume = checkpoints.isEmpty()
                ? "no checkpoint was written before it, so there is nothing to resume from"
                : "nothing was written after checkpoint " + checkpoints.get(0) + ": --resume continues from it "
                        + "(--set training.non_finite=skip steps over a rare bad batch)";
        return new TrainingDivergedException(job + " stopped at iteration " + (step.iteration() + 1) + " of "
                + totalIterations + " (epoch " + (step.epoch() + 1) + "): non-finite " + step.describe() + bound
                + "; " + resume + "; a run that keeps diverging needs a lower training.learning_rate, "
                + "training.clip_grad_norm above 0, or a look at its data and starting weights", stop);
    }
}
