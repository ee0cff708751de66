package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.nn.Linear;
import com.intel.analytics.bigdl.dllib.nn.Sequential;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import dev.sparkvit.model.optim.AdamW;
import dev.sparkvit.model.optim.SgdMomentum;
import dev.sparkvit.model.optim.WarmupCosine;
import dev.sparkvit.testing.BarrierRuns;
import dev.sparkvit.testing.SharedSpark;
import dev.sparkvit.testing.TestTensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Training in barrier segments ({@link BarrierSegment}, 2 tasks on local[2]), and resuming from a serialized start in
 * a fresh segment over a fresh model and data set, reproduces an uninterrupted run bit for bit: per-group AdamW and
 * SGD moments and step counts, iteration, epoch and data position (segments ending mid-epoch, at an epoch's end and
 * one before the end), with decoupled weight decay and gradient clipping on.
 */
@ExtendWith(SharedSpark.class)
class SegmentedTrainingTest {
    private static final int FEATURES = 6;
    private static final int SAMPLES = 64;
    private static final int BATCH = 16; // 4 iterations per epoch
    private static final long TOTAL = 10;

    static Sequential<Float> model() {
        Seeds.seedWeightInit(Seeds.DEFAULT);
        Sequential<Float> model = Layers.sequential();
        Linear<Float> fc1 = Layers.linear(FEATURES, 12);
        fc1.setName("fc1");
        Linear<Float> fc2 = Layers.linear(12, 2);
        fc2.setName("fc2");
        model.add(fc1);
        model.add(Layers.tanh());
        model.add(fc2);
        model.add(Layers.logSoftMax());
        return model;
    }

    /** 64 samples of two classes, rebuilt per epoch, in 2 partitions: one per barrier task on local[2]. */
    static EpochDataSet<Integer> data() {
        return data(SharedSpark.CORES);
    }

    /** The same samples in {@code partitions} partitions. */
    static EpochDataSet<Integer> data(int partitions) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < SAMPLES; i++) {
            ids.add(i);
        }
        return new EpochDataSet<>(SharedSpark.context().parallelize(ids, 2), partitions, (epoch, id) -> {
            Random random = new Random(id * 1009L + epoch);
            float[] x = new float[FEATURES];
            for (int j = 0; j < FEATURES; j++) {
                x[j] = (float) (random.nextGaussian() * 0.7 + (id % 2 == 0 ? 1 : -1) * (j % 3 - 1));
            }
            return Samples.labelled(Tensors.of(x, FEATURES), 1 + id % 2);
        }, 7);
    }

    static Map<String, AbstractModule<?, ?, Float>> groups(Sequential<Float> model) {
        Map<String, AbstractModule<?, ?, Float>> groups = new LinkedHashMap<>();
        for (String name : List.of("fc1", "fc2")) {
            groups.put(name, model.apply(name).get());
        }
        return groups;
    }

    private static OptimMethod<Float> method(String group) {
        return group.equals("fc1") ? AdamW.of(new WarmupCosine(0.05, 2, TOTAL, 0.0), 0.0)
                : new SgdMomentum(new WarmupCosine(0.1, 2, TOTAL, 0.0), 0.9, false);
    }

    /** A fresh run: per-group AdamW (fc1) and SGD (fc2), decoupled decay of both weight matrices, clipping at 0.5. */
    private record Run(Sequential<Float> model, BarrierSegment segment, BarrierSegment.Start start) {
    }

    private static Run run(Sequential<Float> model) {
        Map<String, OptimMethod<Float>> methods = new LinkedHashMap<>();
        methods.put("fc1", method("fc1"));
        methods.put("fc2", method("fc2"));
        model.getParameters();
        List<DecoupledWeightDecay.Range> decayed = List.of(
                DecoupledWeightDecay.rangeOf(ModuleParameters.weights(model).get(0), i -> 0.05),
                DecoupledWeightDecay.rangeOf(ModuleParameters.weights(model).get(2), i -> 0.1));
        BarrierSegment segment = new BarrierSegment(BarrierRuns.module(model), data(), BATCH,
                BarrierRuns.classNll(), methods, PartitionedOptimizerState.slices(model, groups(model)))
                .clipGradientNorm(0.5)
                .weightDecay(new DecoupledWeightDecay(0.1, decayed));
        return new Run(model, segment, BarrierSegment.Start.of(model, methods, 0));
    }

    private static BarrierSegment.Result segmented(long... stops) {
        Run run = run(model());
        try (BarrierSegment segment = run.segment()) {
            BarrierSegment.Result end = BarrierRuns.stops(segment, run.start(), stops);
            assertEquals(TOTAL, end.next().iteration());
            return end;
        }
    }

    static void assertSameState(BarrierSegment.Result expected, BarrierSegment.Result actual, String what) {
        assertTrue(Arrays.equals(expected.weights(), actual.weights()), what + ": weights");
        assertEquals(expected.optimizer().keySet(), actual.optimizer().keySet(), what + ": groups");
        expected.optimizer().forEach((group, state) -> {
            PartitionedOptimizerState.GroupState other = actual.optimizer().get(group);
            assertEquals(state.step(), other.step(), what + ": steps of " + group);
            assertEquals(state.buffers().keySet(), other.buffers().keySet(), what + ": buffers of " + group);
            state.buffers().forEach((name, values) -> assertTrue(Arrays.equals(values, other.buffers().get(name)),
                    what + ": " + group + " " + name));
        });
    }

    @Test
    void segmentsAtAnyIterationGiveTheUninterruptedWeights() {
        Sequential<Float> initial = model();
        List<float[]> before = ModuleParameters.weights(initial).stream().map(Tensors::toArray).toList();
        BarrierSegment.Result once = segmented(TOTAL); // one segment per epoch: 4, 4, 2
        List<float[]> after = BarrierRuns.tensors(initial, once.weights());
        assertEquals(4, after.size(), "two Linear layers, weight and bias each");
        for (int i = 0; i < after.size(); i++) {
            assertTrue(TestTensors.maxAbsDiff(before.get(i), after.get(i)) > 1e-3, "tensor " + i + " did not train");
        }
        once.optimizer().values().forEach(state -> assertEquals(TOTAL, state.step()));
        // 3: mid-epoch; 4: exactly at the end of the first epoch; 9: one before the end
        assertSameState(once, segmented(3, 4, 9, TOTAL), "segments 3, 4, 9, 10 against 4, 8, 10");
        // no segment leaves a block of its exchange behind
        BarrierAllReduceCheck.assertNoBlockOnAnyExecutor(SharedSpark.context(), SharedSpark.CORES,
                "after segmented training");
    }

    /**
     * The start of iteration 4 (an epoch's end) and of 6 (mid-epoch), serialized and read back, continues in a fresh
     * segment over a fresh model whose own weights are random (the start alone carries the state) and a fresh data
     * set: the end is bit for bit the uninterrupted run's.
     */
    @Test
    void resumingFromASerializedStartGivesTheUninterruptedWeights() {
        BarrierSegment.Result once = segmented(TOTAL);
        for (long stop : new long[] {4, 6}) {
            BarrierSegment.Start checkpoint;
            Run first = run(model());
            try (BarrierSegment segment = first.segment()) {
                checkpoint = BarrierRuns.copy(BarrierRuns.until(segment, first.start(), stop).next());
            }
            assertEquals(stop, checkpoint.iteration());
            Sequential<Float> other = model();
            TestTensors.randomizeParameters(other, new Random(stop), 0, 1);
            Run second = run(other);
            assertTrue(TestTensors.maxAbsDiff(second.start().weights(), checkpoint.weights()) > 0.1,
                    "the fresh model's own weights differ from the checkpoint's");
            try (BarrierSegment segment = second.segment()) {
                assertSameState(once, BarrierRuns.until(segment, checkpoint, TOTAL), "resumed at " + stop);
            }
        }
    }

    @Test
    void clippingBoundsTheStepByTheGlobalNorm() {
        Sequential<Float> model = model();
        double clip = 1e-3;
        SgdMomentum sgd = new SgdMomentum(i -> 1.0, 0.0, false);
        BarrierSegment.Start start = BarrierSegment.Start.of(model, sgd, 0);
        BarrierSegment.Result result;
        try (BarrierSegment segment = new BarrierSegment(BarrierRuns.module(model), data(), BATCH,
                BarrierRuns.classNll(), sgd).clipGradientNorm(clip)) {
            result = segment.run(start, 1);
        }
        double squares = 0;
        for (int i = 0; i < start.weights().length; i++) {
            double step = result.weights()[i] - start.weights()[i];
            squares += step * step;
        }
        assertTrue(result.norms()[0] > 100 * clip, "the gradient's norm " + result.norms()[0] + " is not above the "
                + "bound: clipping would not act");
        // with rate 1 and no momentum the step is the clipped gradient itself
        assertEquals(clip, Math.sqrt(squares), clip * 1e-3);
    }
}
