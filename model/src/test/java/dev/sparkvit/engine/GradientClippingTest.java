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
import dev.sparkvit.testing.TestTensors;
import java.util.List;
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

    private record Run(float[][] weights, List<String> jobs) {
    }

    /** DLlib's clipping processor when given, else clipGradientNorm(clipNorm) (0: none). */
    private static Run train(ParameterProcessor dllibClipping, double clipNorm) throws Exception {
        // EpochDataSet: the same batches in every run (DLlib's own dataset starts each iteration at a random offset)
        Sequential<Float> model = SegmentedTrainingTest.model();
        DistributedTraining training = DistributedTraining.of(model,
                        SegmentedTrainingTest.data(BigDlEngine.nodeNumber()), Criteria.classNll(), 16)
                .optimMethod(AdamW.of(i -> 0.05, 0.0))
                .clipGradientNorm(clipNorm)
                .endWhen(Triggers.maxIteration(ITERATIONS));
        if (dllibClipping != null) {
            training.parameterProcessor(dllibClipping);
        }
        List<String> jobs = SparkJobNames.of(SharedSpark.context().sc(), training::optimize);
        return new Run(ModuleParameters.snapshot(model), jobs);
    }

    @Test
    void clipsInTheUpdateJobLikeDllibsProcessorWithoutItsJob() throws Exception {
        Run dllib = train(new L2NormClippingProcessor(CLIP), 0);
        Run ours = train(null, CLIP);
        Run unclipped = train(null, 0);

        for (int i = 0; i < ours.weights().length; i++) {
            assertArrayEquals(dllib.weights()[i], ours.weights()[i], "tensor " + i);
        }
        assertTrue(TestTensors.maxAbsDiff(unclipped.weights()[0], ours.weights()[0]) > 1e-4f,
                "clipping changed nothing: the test's gradients are not above the clip norm");

        String forward = "reduce at DistriOptimizer.scala";
        String update = "count at DistriOptimizer.scala";
        String clippingJob = "reduce at ParameterOperations.scala";
        assertEquals(ITERATIONS, SparkJobNames.count(dllib.jobs(), clippingJob), dllib.jobs().toString());
        assertEquals(0, SparkJobNames.count(ours.jobs(), clippingJob), ours.jobs().toString());
        // two jobs per iteration, as without clipping
        assertEquals(SparkJobNames.count(unclipped.jobs(), forward), SparkJobNames.count(ours.jobs(), forward));
        assertEquals(SparkJobNames.count(unclipped.jobs(), update), SparkJobNames.count(ours.jobs(), update));
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
