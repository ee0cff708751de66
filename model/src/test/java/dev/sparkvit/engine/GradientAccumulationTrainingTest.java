package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.nn.Sequential;
import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import dev.sparkvit.model.optim.AdamW;
import dev.sparkvit.model.optim.LearningRateSchedule;
import dev.sparkvit.model.optim.WarmupCosine;
import dev.sparkvit.testing.BarrierRuns;
import dev.sparkvit.testing.SharedSpark;
import dev.sparkvit.testing.TestTensors;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * On the barrier engine (local[2]: 2 tasks), per-group {@link GradientAccumulation} of AdamW over 2 micro-batches of
 * 16 with {@link DecoupledWeightDecay#everySteps} gives the weights of plain per-group AdamW on batches of 32 with
 * plain decoupled decay, to float rounding: each iteration reads the next records of every partition's stream
 * (EpochDataSet), so two consecutive micro-batches are exactly one batch of 32, and the mean of their mean-loss
 * gradients is the batch's. Controls show the comparison discriminates: plain AdamW on batches of 16, and accumulation
 * with decay on every micro-batch, both land elsewhere.
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

    private static BarrierSegment.Result train(int batch, long iterations, Function<AdamW, OptimMethod<Float>> wrap,
            Function<DecoupledWeightDecay, DecoupledWeightDecay> decayed) {
        Sequential<Float> model = SegmentedTrainingTest.model();
        Map<String, OptimMethod<Float>> methods = methods(wrap);
        model.getParameters();
        try (BarrierSegment segment = new BarrierSegment(BarrierRuns.module(model), SegmentedTrainingTest.data(),
                batch, BarrierRuns.classNll(), methods, PartitionedOptimizerState.slices(model,
                SegmentedTrainingTest.groups(model))).weightDecay(decayed.apply(decay(model)))) {
            assertEquals(iterations, 2 * segment.iterationsPerEpoch(), "two epochs");
            return BarrierRuns.until(segment, BarrierSegment.Start.of(model, methods, 0), iterations);
        }
    }

    @Test
    void accumulatingTwoMicroBatchesEqualsTheBatchOfBoth() {
        float[] initial = BarrierSegment.Start.of(SegmentedTrainingTest.model(), AdamW.of(FC1, 0.0), 0).weights();
        BarrierSegment.Result whole = train(BATCH, STEPS, m -> m, d -> d);
        BarrierSegment.Result accumulated = train(MICRO, 2L * STEPS, m -> new GradientAccumulation<>(m, 2),
                d -> d.everySteps(2));

        assertEquals(STEPS, whole.next().iteration());
        assertEquals(2L * STEPS, accumulated.next().iteration(), "both runs read exactly two epochs");
        for (String group : List.of("fc1", "fc2")) {
            PartitionedOptimizerState.GroupState state = accumulated.optimizer().get(group);
            assertEquals(2L * STEPS, state.step(), "one call per micro-batch");
            GradientAccumulation<AdamW> restored = new GradientAccumulation<>(AdamW.of(FC1, 0.0), 2);
            restored.restore(state.step(), state.buffers());
            assertEquals(STEPS, restored.inner().step(), "one AdamW step per two micro-batches");
            assertEquals(STEPS, whole.optimizer().get(group).step());
            // the inner moments are the whole batch's, to float rounding: AdamW stepped on the same gradients
            whole.optimizer().get(group).buffers().forEach((name, values) -> {
                double error = TestTensors.relativeL2(state.buffers().get(name), values);
                assertTrue(error < 1e-4, group + " " + name + " off the whole batch's by relative " + error);
            });
        }

        double moved = TestTensors.maxAbsDiff(initial, accumulated.weights());
        assertTrue(moved > 1e-2, "training with accumulation moved the weights by " + moved);
        double difference = TestTensors.maxAbsDiff(whole.weights(), accumulated.weights());
        assertTrue(difference < 1e-5, "accumulated micro-batches differ from the whole batch by " + difference);

        // controls: the tolerance is far below what a wrong schedule of steps or of decay would produce
        BarrierSegment.Result small = train(MICRO, 2L * STEPS, m -> m, d -> d);
        double smallDifference = TestTensors.maxAbsDiff(whole.weights(), small.weights());
        assertTrue(smallDifference > 1e-3, "plain AdamW on batches of 16 differs by only " + smallDifference);
        BarrierSegment.Result decayEveryCall = train(MICRO, 2L * STEPS, m -> new GradientAccumulation<>(m, 2),
                d -> d);
        double decayDifference = TestTensors.maxAbsDiff(whole.weights(), decayEveryCall.weights());
        assertTrue(decayDifference > 1e-4, "decay on every micro-batch differs by only " + decayDifference);
    }
}
