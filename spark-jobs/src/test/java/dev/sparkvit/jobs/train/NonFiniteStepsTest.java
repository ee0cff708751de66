package dev.sparkvit.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sparkvit.checkpoint.CheckpointStore;
import dev.sparkvit.engine.NonFinitePolicy;
import dev.sparkvit.engine.NonFiniteStep;
import dev.sparkvit.engine.NonFiniteTrainingException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The jobs' wording and arithmetic around non-finite steps. */
class NonFiniteStepsTest {
    @Test
    void epochLossesLeaveTheSkippedIterationsOutAndKeepTheFaultFreeSumsAsTheyWere() {
        float[] losses = {2.5f, Float.NaN, 1.5f, 0.7f};
        NonFiniteSteps.EpochLoss withSkip = NonFiniteSteps.epochLoss(losses, 10, List.of(3L, 11L));
        assertEquals(1, withSkip.skipped());
        double expected = 0;
        for (float loss : new float[] {2.5f, 1.5f, 0.7f}) {
            expected += loss / 3; // iterations 10, 12 and 13; 11 was skipped
        }
        assertEquals(expected, withSkip.mean(), 0.0);
        assertEquals("  (1 step skipped)", withSkip.note());
        float[] clean = {0.1f, 0.2f, 0.3f};
        double before = 0;
        for (float loss : clean) {
            before += loss / clean.length; // the monitors' formula before skipped steps existed
        }
        NonFiniteSteps.EpochLoss none = NonFiniteSteps.epochLoss(clean, 0, List.of());
        assertEquals(before, none.mean(), 0.0);
        assertEquals("", none.note());
        assertEquals("  (2 steps skipped)", NonFiniteSteps.epochLoss(clean, 5, List.of(5L, 7L)).note());
    }

    @Test
    void theStopMessageNamesTheNewestCheckpointOrItsAbsence(@TempDir Path tmp) {
        NonFiniteTrainingException stop = new NonFiniteTrainingException(
                new NonFiniteStep(0, 0, Double.NaN, Double.POSITIVE_INFINITY, 0), 0);
        CheckpointStore empty = new CheckpointStore(tmp.resolve("checkpoints"), 3);
        assertEquals("finetune stopped at iteration 1 of 40 (epoch 1): non-finite loss NaN, gradient norm Infinity; "
                + "no checkpoint was written before it, so there is nothing to resume from; a run that keeps "
                + "diverging needs a lower training.learning_rate, training.clip_grad_norm above 0, or a look at its "
                + "data and starting weights",
                NonFiniteSteps.stopped("finetune", stop, 40, NonFinitePolicy.stop(), empty).getMessage());
        NonFiniteTrainingException bounded = new NonFiniteTrainingException(
                new NonFiniteStep(57, 2, 1.25, Double.NaN, 4), 4);
        assertEquals("pretrain stopped at iteration 58 of 800 (epoch 3): non-finite gradient norm NaN (loss 1.2500) "
                + "after 4 skipped steps (training.max_skipped_steps = 4); no checkpoint was written before it, so "
                + "there is nothing to resume from; a run that keeps diverging needs a lower "
                + "training.learning_rate, training.clip_grad_norm above 0, or a look at its data and starting "
                + "weights", NonFiniteSteps.stopped("pretrain", bounded, 800, NonFinitePolicy.skip(4), empty)
                .getMessage());
    }
}
