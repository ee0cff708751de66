package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.nn.Sequential;
import dev.sparkvit.model.optim.AdamW;
import dev.sparkvit.testing.InjectedFault;
import dev.sparkvit.testing.SharedSpark;
import dev.sparkvit.testing.TestTensors;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What the non-finite guard costs in Spark jobs. With one partition (local mode) it decides and clips inside the
 * update job: a guarded, clipped run starts exactly the jobs of a run with neither, skips included, and steps like
 * clipping alone. With two partitions it needs its own job in every iteration (the norm needs every chunk). Whether
 * its decisions are right is {@code NonFiniteTrainingTest}'s subject; both paths run there.
 */
@ExtendWith(SharedSpark.class)
class NonFiniteGuardJobsTest {
    private static final int ITERATIONS = 8;
    private static final double CLIP = 0.05; // below the gradient norms here: every applied step is clipped
    private static final String GUARD_JOB = "reduce at NonFiniteGuard.java";
    private static final String UPDATE_JOB = "count at DistriOptimizer.scala:374";

    private record Run(float[][] weights, List<String> jobs, List<Long> skipped, NonFiniteTrainingException stop) {
    }

    /**
     * Two segments (3, then {@value #ITERATIONS} iterations) with a NaN input at {@code faults}; the model is wrapped
     * in {@link InjectedFault} in every run, fault or not, as its extra parameter costs jobs of its own.
     */
    private static Run train(NonFinitePolicy guard, double clip, long... faults) {
        Sequential<Float> model = SegmentedTrainingTest.model();
        DistributedTraining training = DistributedTraining.of(new InjectedFault(model, InjectedFault.Kind.NAN_INPUT,
                        faults), SegmentedTrainingTest.data(BigDlEngine.nodeNumber()), Criteria.classNll(), 16)
                .optimMethod(AdamW.of(i -> 0.05, 0.0))
                .clipGradientNorm(clip);
        if (guard != null) {
            training.nonFinite(guard);
        }
        NonFiniteTrainingException[] stop = new NonFiniteTrainingException[1];
        List<String> jobs = SparkJobNames.of(SharedSpark.context().sc(), () -> {
            try {
                training.trainUntil(3);
                training.trainUntil(ITERATIONS);
            } catch (NonFiniteTrainingException e) {
                stop[0] = e;
            }
        });
        return new Run(ModuleParameters.snapshot(model), jobs, training.skippedIterations(), stop[0]);
    }

    @Test
    void withOnePartitionTheGuardAddsNoJob() {
        assertEquals(1, BigDlEngine.nodeNumber());
        Run plain = train(null, 0);
        Run clipped = train(null, CLIP);
        Run guarded = train(NonFinitePolicy.skip(2), CLIP);
        // iteration 2 ends the first segment (its skip is reported when the segment ends), 5 is inside the second
        Run skipping = train(NonFinitePolicy.skip(2), CLIP, 2, 5);

        assertEquals(0, SparkJobNames.count(guarded.jobs(), GUARD_JOB), guarded.jobs().toString());
        assertEquals(plain.jobs(), guarded.jobs(), "the guarded run starts the jobs of a run without guard or "
                + "clipping");
        assertEquals(plain.jobs(), skipping.jobs(), "skipping starts no job either");
        assertEquals(List.of(2L, 5L), skipping.skipped());
        for (int i = 0; i < clipped.weights().length; i++) {
            assertArrayEquals(clipped.weights()[i], guarded.weights()[i], "tensor " + i);
        }
        assertTrue(TestTensors.maxAbsDiff(plain.weights()[0], guarded.weights()[0]) > 1e-4f,
                "clipping changed nothing: the test's gradients are not above the clip norm");
    }

    @Test
    void withOnePartitionAStopEndsTheStoppedIterationsUpdateJobAndNothingFollows() {
        Run reference = train(null, CLIP);
        Run stopped = train(NonFinitePolicy.stop(), CLIP, 4);
        assertEquals(4, stopped.stop().step().iteration());
        // the fault-free run's jobs up to iteration 4's update job (the fifth), which failed: no later training job
        // started (the segment's end frees DLlib's parameter blocks, in one job that trains nothing)
        List<String> started = withoutCleanup(stopped.jobs());
        assertEquals(withoutCleanup(reference.jobs()).subList(0, started.size()), started);
        assertEquals(1L, SparkJobNames.count(stopped.jobs().subList(stopped.jobs().size() - 1, stopped.jobs().size()),
                "reduce at ParameterBlocks"), "the stopped segment's parameter blocks are freed: " + stopped.jobs());
        assertEquals(5, SparkJobNames.count(started, UPDATE_JOB), started.toString());
        assertTrue(started.get(started.size() - 1).startsWith(UPDATE_JOB), started.toString());
    }

    private static List<String> withoutCleanup(List<String> jobs) {
        return jobs.stream().filter(job -> !job.startsWith("reduce at ParameterBlocks")).toList();
    }

    @Test
    void withTwoPartitionsTheGuardRunsItsJobEveryIteration() {
        com.intel.analytics.bigdl.dllib.utils.Engine$.MODULE$.setNodeAndCore(2, 1);
        try {
            Run plain = train(null, 0);
            Run guarded = train(NonFinitePolicy.skip(2), CLIP);
            assertEquals(ITERATIONS, SparkJobNames.count(guarded.jobs(), GUARD_JOB), guarded.jobs().toString());
            assertEquals(plain.jobs().size() + ITERATIONS, guarded.jobs().size(), guarded.jobs().toString());
        } finally {
            com.intel.analytics.bigdl.dllib.utils.Engine$.MODULE$.setNodeAndCore(1, SharedSpark.CORES);
        }
    }
}
