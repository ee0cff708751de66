package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.nn.Sequential;
import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import dev.sparkvit.model.optim.AdamW;
import dev.sparkvit.model.optim.LearningRateSchedule;
import dev.sparkvit.model.optim.WarmupCosine;
import dev.sparkvit.testing.SharedSpark;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Under DistriOptimizer (local[2]: one partition, two replicas), per-group {@link GradientAccumulation} of AdamW over 2
 * micro-batches of 16 with {@link DecoupledWeightDecay#everySteps} gives the weights of plain per-group AdamW on
 * batches of 32 with plain decoupled decay, to float rounding: each iteration reads the next records of the
 * partition's stream (EpochDataSet), so two consecutive micro-batches are exactly one batch of 32, and the mean of
 * their mean-loss gradients is the batch's. Controls show the comparison discriminates: plain AdamW on batches of 16,
 * and accumulation with decay on every micro-batch, both land elsewhere.
 */
@ExtendWith(SharedSpark.class)
class GradientAccumulationTrainingTest {
    private static final int BATCH = 32;
    private static final int MICRO = 16;
    private static final int STEPS = 4; // two epochs of 64 samples in batches of 32
    private static final double WEIGHT_DECAY = 0.1;

    private static final LearningRateSchedule FC1 = new WarmupCosine(0.05, 2, STEPS, 0.0);
    private static final LearningRateSchedule FC2 = new WarmupCosine(0.02, 1, STEPS, 0.001);

    private static Map<String, OptimMethod<Float>> methods(Function<AdamW, OptimMethod<Float>> wrap) {
        Map<String, OptimMethod<Float>> methods = new LinkedHashMap<>();
        methods.put("fc1", wrap.apply(AdamW.of(FC1, 0.0)));
        methods.put("fc2", wrap.apply(AdamW.of(FC2, 0.0)));
        return methods;
    }

    /** Decay of both weight matrices (not the biases) at their group's rate. */
    private static DecoupledWeightDecay decay(Sequential<Float> model) {
        model.getParameters();
        List<com.intel.analytics.bigdl.dllib.tensor.Tensor<Float>> weights = ModuleParameters.weights(model);
        return new DecoupledWeightDecay(WEIGHT_DECAY, List.of(
                DecoupledWeightDecay.rangeOf(weights.get(0), FC1::rate),
                DecoupledWeightDecay.rangeOf(weights.get(2), FC2::rate)));
    }

    private record Run(float[][] weights, DistributedTraining training) {
    }

    private static Run train(int batch, long iterations, Function<AdamW, OptimMethod<Float>> wrap,
            Function<DecoupledWeightDecay, DecoupledWeightDecay> decayed) {
        Sequential<Float> model = SegmentedTrainingTest.model();
        DistributedTraining training = DistributedTraining.of(model, SegmentedTrainingTest.data(), Criteria.classNll(),
                batch)
                .optimMethods(methods(wrap))
                .parameterProcessor(decayed.apply(decay(model)));
        training.trainUntil(iterations);
        return new Run(ModuleParameters.snapshot(model), training);
    }

    private static double maxDifference(float[][] a, float[][] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, dev.sparkvit.testing.TestTensors.maxAbsDiff(a[i], b[i]));
        }
        return max;
    }

    @Test
    void accumulatingTwoMicroBatchesEqualsTheBatchOfBoth() {
        float[][] initial = ModuleParameters.snapshot(SegmentedTrainingTest.model());
        Run whole = train(BATCH, STEPS, m -> m, d -> d);
        Run accumulated = train(MICRO, 2L * STEPS, m -> new GradientAccumulation<>(m, 2), d -> d.everySteps(2));

        assertEquals(new DistributedTraining.Progress(STEPS, 2, 0), whole.training().progress());
        assertEquals(new DistributedTraining.Progress(2L * STEPS, 2, 0), accumulated.training().progress(),
                "both runs read exactly two epochs");
        for (Map<String, OptimMethod<Float>> partition : accumulated.training().partitionMethods()) {
            for (OptimMethod<Float> method : partition.values()) {
                GradientAccumulation<?> wrapped = (GradientAccumulation<?>) method;
                assertEquals(2L * STEPS, wrapped.step(), "one call per micro-batch");
                assertEquals(STEPS, wrapped.inner().step(), "one AdamW step per two micro-batches");
            }
        }

        double moved = maxDifference(initial, accumulated.weights());
        assertTrue(moved > 1e-2, "training with accumulation moved the weights by " + moved);
        double difference = maxDifference(whole.weights(), accumulated.weights());
        assertTrue(difference < 1e-5, "accumulated micro-batches differ from the whole batch by " + difference);

        // controls: the tolerance is far below what a wrong schedule of steps or of decay would produce
        Run small = train(MICRO, 2L * STEPS, m -> m, d -> d);
        double smallDifference = maxDifference(whole.weights(), small.weights());
        assertTrue(smallDifference > 1e-3, "plain AdamW on batches of 16 differs by only " + smallDifference);
        Run decayEveryCall = train(MICRO, 2L * STEPS, m -> new GradientAccumulation<>(m, 2), d -> d);
        double decayDifference = maxDifference(whole.weights(), decayEveryCall.weights());
        assertTrue(decayDifference > 1e-4, "decay on every micro-batch differs by only " + decayDifference);
    }
}
