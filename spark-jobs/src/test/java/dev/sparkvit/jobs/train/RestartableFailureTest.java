package dev.sparkvit.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sparkvit.config.ConfigException;
import dev.sparkvit.engine.ExecutorWatch;
import dev.sparkvit.engine.NonFiniteStep;
import dev.sparkvit.engine.NonFiniteTrainingException;
import java.util.List;
import java.util.Optional;
import org.apache.spark.SparkException;
import org.junit.jupiter.api.Test;

/**
 * Which failures a restart from checkpoint may cure, on the exception chains Spark and the barrier exchange produce (messages as
 * seen on the standalone cluster and in local mode): lost executor state is restartable, decisions and errors the
 * same inputs would repeat are not.
 */
class RestartableFailureTest {
    private static SparkException aborted(String taskFailure) {
        return new SparkException("Job aborted due to stage failure: Task 0 in stage 94.0 failed 4 times, most recent "
                + "failure: Lost task 0.3 in stage 94.0 (TID 70) (127.0.0.1 executor 0): " + taskFailure);
    }

    @Test
    void lostExecutorStateIsRestartable() {
        assertEquals(Optional.of("lost executor state (ExecutorLostFailure)"), RestartableFailure.reason((
                aborted("ExecutorLostFailure (executor 1 exited caused by one of the running tasks) Reason: Remote "
                        + "RPC client disassociated.")), List.of()));
        assertEquals(Optional.of("lost executor state (is on no executor)"), RestartableFailure.reason(
                new SparkException("Job aborted due to stage failure: Could not recover from a failed barrier "
                        + "ResultStage. Most recent failure reason: Stage failed because barrier task ResultTask(3, 1) "
                        + "finished unsuccessfully.\njava.lang.IllegalStateException: block "
                        + "sparkvit_allreduce_segment_3_0_4_p0_1 is on no executor"), List.of()));
        assertEquals(Optional.of("lost executor state (FetchFailed)"), RestartableFailure.reason(aborted(
                "FetchFailed(BlockManagerId(1, 127.0.0.1, 40123, None), shuffleId=3, mapIndex=1, mapId=7)"),
                List.of()));
    }

    @Test
    void anyFailureWhileAnExecutorOfTheAttemptIsGoneIsRestartable() {
        // the silent case: Spark recomputed the lost replicas and the gather's consistency check tripped
        IllegalStateException gather = new IllegalStateException("group blocks.2 took 1 steps on one partition and "
                + "6 on partition 1");
        assertEquals(Optional.of("executor 1 lost"), RestartableFailure.reason(gather, List.of("1")));
        assertEquals(Optional.of("executor 0, 1 lost"), RestartableFailure.reason(
                new ExecutorWatch.ExecutorLostException(List.of("0", "1"), "during iterations 4 to 6"),
                List.of("0", "1")));
    }

    @Test
    void whatTheSameInputsWouldRepeatIsNotRestartable() {
        // a bug or a bad input inside a task, with every executor alive
        assertEquals(Optional.empty(), RestartableFailure.reason((aborted(
                "java.lang.IllegalStateException: cannot build the sample of epoch 2")), List.of()));
        assertEquals(Optional.empty(), RestartableFailure.reason(new ConfigException("conf/x.yaml: bad"), List.of()));
        assertEquals(Optional.empty(), RestartableFailure.reason(new IllegalArgumentException("batch size 30 is not "
                + "a positive multiple of the 4 model replicas"), List.of()));
    }

    @Test
    void aNonFiniteStopOrAStoppedSparkContextIsNeverRestartedEvenWithAnExecutorLost() {
        NonFiniteTrainingException stop = new NonFiniteTrainingException(new NonFiniteStep(4, 0, Double.NaN,
                Double.NaN, 0), 0);
        assertEquals(Optional.empty(), RestartableFailure.reason((stop), List.of("1")));
        assertEquals(Optional.empty(), RestartableFailure.reason(new TrainingDivergedException("pretrain stopped",
                stop), List.of("1")));
        assertEquals(Optional.empty(), RestartableFailure.reason(new IllegalStateException(
                "Cannot call methods on a stopped SparkContext."), List.of("1")));
        assertEquals(Optional.empty(), RestartableFailure.reason((new SparkException(
                "Job 12 cancelled because SparkContext was shut down")), List.of()));
    }

    @Test
    void theRestartLineShowsTheInnermostMessageOnce() {
        assertEquals("SparkException: Job aborted due to stage failure: Task 0 in stage 94.0 failed 4 times, most "
                + "recent failure: Lost task 0.3 in stage 94.0 (TID 70) (127.0.0.1 executor 0): x",
                TrainingRestarts.firstLine((aborted("x\n\tat some.Frame(F.java:1)"))));
        String longMessage = "y".repeat(400);
        assertEquals(300, TrainingRestarts.firstLine(new IllegalStateException(longMessage)).length());
    }
}
