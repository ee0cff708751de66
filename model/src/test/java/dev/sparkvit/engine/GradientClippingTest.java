package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.nn.Sequential;
import com.intel.analytics.bigdl.dllib.optim.parameters.L2NormClippingProcessor;
import com.intel.analytics.bigdl.dllib.optim.parameters.ParameterProcessor;
import dev.sparkvit.model.optim.AdamW;
import dev.sparkvit.testing.SharedSpark;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.StageInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Clipping in the update job (one partition, local mode) takes the same steps as DLlib's clipping processor, bit for
 * bit, without its extra Spark job per iteration.
 */
@ExtendWith(SharedSpark.class)
class GradientClippingTest {
    private static final int ITERATIONS = 6;
    private static final double CLIP = 0.05; // below the gradient norms here: every step is clipped

    /** The result stage name of every job started while it listened. */
    private static final class JobNames extends SparkListener {
        final List<String> names = new ArrayList<>();

        @Override
        public synchronized void onJobStart(SparkListenerJobStart start) {
            StageInfo last = null;
            for (StageInfo stage : scala.collection.JavaConverters.seqAsJavaList(start.stageInfos())) {
                if (last == null || stage.stageId() > last.stageId()) {
                    last = stage;
                }
            }
            names.add(last == null ? "" : last.name());
        }
    }

    private record Run(float[][] weights, List<String> jobs) {
    }

    /** DLlib's clipping processor when given, else clipGradientNorm(clipNorm) (0: none). */
    private static Run train(ParameterProcessor dllibClipping, double clipNorm) throws Exception {
        // EpochDataSet: the same batches in every run (DLlib's own dataset starts each iteration at a random offset)
        Sequential<Float> model = SegmentedTrainingTest.model();
        DistributedTraining training = DistributedTraining.of(model, SegmentedTrainingTest.data(), Criteria.classNll(),
                        16)
                .optimMethod(AdamW.of(i -> 0.05, 0.0))
                .clipGradientNorm(clipNorm)
                .endWhen(Triggers.maxIteration(ITERATIONS));
        if (dllibClipping != null) {
            training.parameterProcessor(dllibClipping);
        }
        SparkContext sc = SharedSpark.context().sc();
        JobNames listener = new JobNames();
        sc.addSparkListener(listener);
        try {
            training.optimize();
            sc.listenerBus().waitUntilEmpty();
        } finally {
            sc.removeSparkListener(listener);
        }
        return new Run(ModuleParameters.snapshot(model), listener.names);
    }

    private static long count(List<String> jobs, String prefix) {
        return jobs.stream().filter(name -> name.startsWith(prefix)).count();
    }

    @Test
    void clipsInTheUpdateJobLikeDllibsProcessorWithoutItsJob() throws Exception {
        Run dllib = train(new L2NormClippingProcessor(CLIP), 0);
        Run ours = train(null, CLIP);
        Run unclipped = train(null, 0);

        for (int i = 0; i < ours.weights().length; i++) {
            assertArrayEquals(dllib.weights()[i], ours.weights()[i], "tensor " + i);
        }
        assertTrue(DistributedTrainingTest.maxAbsDifference(unclipped.weights()[0], ours.weights()[0]) > 1e-4f,
                "clipping changed nothing: the test's gradients are not above the clip norm");

        String forward = "reduce at DistriOptimizer.scala";
        String update = "count at DistriOptimizer.scala";
        String clippingJob = "reduce at ParameterOperations.scala";
        assertEquals(ITERATIONS, count(dllib.jobs(), clippingJob), dllib.jobs().toString());
        assertEquals(0, count(ours.jobs(), clippingJob), ours.jobs().toString());
        // two jobs per iteration, as without clipping
        assertEquals(count(unclipped.jobs(), forward), count(ours.jobs(), forward));
        assertEquals(count(unclipped.jobs(), update), count(ours.jobs(), update));
        assertEquals(unclipped.jobs().size(), ours.jobs().size(), ours.jobs().toString());
        assertEquals(dllib.jobs().size() - ITERATIONS, ours.jobs().size());
    }

    @Test
    void theNormMustBePositiveAndFinite() {
        for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new GradientClipping(bad));
            assertTrue(e.getMessage().contains("gradient clipping norm"), e.getMessage());
        }
    }
}
