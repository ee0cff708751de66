package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.nn.Sequential;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.model.optim.AdamW;
import dev.sparkvit.model.optim.SgdMomentum;
import dev.sparkvit.model.optim.WarmupCosine;
import dev.sparkvit.testing.InjectedFault;
import dev.sparkvit.testing.NanLossAt;
import dev.sparkvit.testing.BarrierRuns;
import dev.sparkvit.testing.SharedSpark;
import dev.sparkvit.testing.TestTensors;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The non-finite policy ({@link BarrierSegment#nonFinite}) on the barrier engine (local[2]: 2 tasks), with per-group
 * AdamW and SGD, decoupled weight decay, clipping and an EMA, and a deterministic fault ({@link InjectedFault}: a NaN
 * output, an infinite incoming gradient or one NaN element of the last parameter's gradient at chosen iterations,
 * told the iteration by the segment in every task; {@link NanLossAt}: a NaN loss with a finite gradient).
 *
 * <p>Stop: the segment fails at exactly the faulty iteration, before its update; its start stays valid. Skip: the run
 * ends bit-identical to a reference built without any guard or fault, in which the faulty iteration's step never
 * happened: the same run is trained until that iteration, and a fresh start is made from its state (weights, EMA and
 * its count, every group's moments) with every counter (iteration, data position, method step counts) one step
 * ({@code accumulation} iterations) further on, and training continues. That is the documented meaning of a skipped
 * step: the iteration consumes its batch and moves every counter and schedule on, and changes no weight, moment or EMA.
 */
@ExtendWith(SharedSpark.class)
class NonFiniteTrainingTest {
    private static final int BATCH = 16; // 64 samples: 4 iterations per epoch
    private static final long TOTAL = 10;
    private static final BarrierSegment.Ema EMA = new BarrierSegment.Ema(0.9, true);

    /** A run: the segment and its start. */
    private record Setup(BarrierSegment segment, BarrierSegment.Start start) implements AutoCloseable {
        @Override
        public void close() {
            segment.close();
        }
    }

    private static OptimMethod<Float> method(String group, int accumulation) {
        if (group.equals("fc1")) {
            AdamW adamW = AdamW.of(new WarmupCosine(0.05, 2, TOTAL, 0.0), 0.0);
            return accumulation == 1 ? adamW : new GradientAccumulation<>(adamW, accumulation);
        }
        SgdMomentum sgd = new SgdMomentum(new WarmupCosine(0.1, 2, TOTAL, 0.0), 0.9, false);
        return accumulation == 1 ? sgd : new GradientAccumulation<>(sgd, accumulation);
    }

    /**
     * The model of SegmentedTrainingTest, optionally with a fault around it: per-group AdamW (fc1) and SGD (fc2),
     * decoupled decay of both weight matrices, clipping at 0.5, and without accumulation the EMA (decay 0.9, warmup).
     * Under accumulation the run keeps no EMA: how the barrier EMA folds under accumulation is the subject of the
     * EMA's own tests.
     */
    private static Setup setup(int accumulation, UnaryOperator<AbstractModule<?, ?, Float>> fault,
            BarrierSegment.Loss loss) {
        Sequential<Float> model = SegmentedTrainingTest.model();
        AbstractModule<Activity, Activity, Float> trained = BarrierRuns.module(fault.apply(model));
        trained.getParameters();
        Map<String, OptimMethod<Float>> methods = new LinkedHashMap<>();
        for (String name : List.of("fc1", "fc2")) {
            methods.put(name, method(name, accumulation));
        }
        List<Tensor<Float>> weights = ModuleParameters.weights(model);
        DecoupledWeightDecay decay = new DecoupledWeightDecay(0.1, List.of(
                DecoupledWeightDecay.rangeOf(weights.get(0), i -> 0.05),
                DecoupledWeightDecay.rangeOf(weights.get(2), i -> 0.1))).everySteps(accumulation);
        BarrierSegment segment = new BarrierSegment(trained, SegmentedTrainingTest.data(), BATCH, loss, methods,
                PartitionedOptimizerState.slices(trained, SegmentedTrainingTest.groups(model)))
                .clipGradientNorm(0.5)
                .weightDecay(decay)
                .ema(accumulation == 1 ? EMA : null);
        return new Setup(segment, BarrierSegment.Start.of(trained, methods, 0));
    }

    private static Setup setup(int accumulation, UnaryOperator<AbstractModule<?, ?, Float>> fault) {
        return setup(accumulation, fault, BarrierRuns.classNll());
    }

    /**
     * The reference: no guard, no fault; at each of {@code holes} (0-based iterations, group starts under
     * accumulation) the run stops, and continues from a start with its state and every counter one step
     * ({@code accumulation} iterations) further on.
     */
    private static BarrierSegment.Result reference(int accumulation, long... holes) {
        try (Setup run = setup(accumulation, m -> m)) {
            BarrierSegment.Start at = run.start();
            for (long hole : holes) {
                BarrierSegment.Result before = hole > at.iteration() ? BarrierRuns.until(run.segment(), at, hole)
                        : null;
                BarrierSegment.Start reached = before == null ? at : before.next();
                Map<String, PartitionedOptimizerState.GroupState> moved = new LinkedHashMap<>();
                reached.optimizer().forEach((group, s) -> moved.put(group, new PartitionedOptimizerState.GroupState(
                        s.step() + accumulation, s.buffers())));
                at = new BarrierSegment.Start(hole + accumulation, reached.weights(), moved, reached.ema(),
                        reached.emaUpdates());
            }
            return BarrierRuns.until(run.segment(), at, TOTAL);
        }
    }

    private static void assertSameState(BarrierSegment.Result expected, BarrierSegment.Result actual) {
        SegmentedTrainingTest.assertSameState(expected, actual, "against the reference");
        assertTrue(Arrays.equals(expected.ema(), actual.ema()), "EMA");
        assertEquals(expected.emaUpdates(), actual.emaUpdates(), "EMA updates");
    }

    private static double maxDifference(BarrierSegment.Result a, BarrierSegment.Result b) {
        return TestTensors.maxAbsDiff(a.weights(), b.weights());
    }

    /**
     * A NaN output at iteration 6 (0-based; epoch 2's second) stops the segment of epoch 2 there, with the one-line
     * message; its start (iteration 4) stays valid: iterations 4 and 5 run from it to the last good state, bit for bit
     * the state of a run without the fault after 6 iterations. Nothing of the exchange is left behind.
     */
    @Test
    void stopEndsTrainingAtTheFaultyIterationBeforeItsUpdate() {
        try (Setup run = setup(1, m -> new InjectedFault(m, InjectedFault.Kind.NAN_INPUT, 6))) {
            run.segment().nonFinite(NonFinitePolicy.stop());
            BarrierSegment.Result first = BarrierRuns.until(run.segment(), run.start(), 4);
            NonFiniteTrainingException stop = assertThrows(NonFiniteTrainingException.class,
                    () -> BarrierRuns.until(run.segment(), first.next(), TOTAL));
            assertEquals(6, stop.step().iteration());
            assertEquals(1, stop.step().epoch());
            assertTrue(Double.isNaN(stop.step().loss()) && Double.isNaN(stop.step().gradientNorm()),
                    stop.getMessage());
            assertEquals("non-finite loss NaN, gradient norm NaN at iteration 7 (epoch 2)", stop.getMessage());
            BarrierAllReduceCheck.assertNoBlockOnAnyExecutor(SharedSpark.context(), SharedSpark.CORES,
                    "after the stopped segment");
            BarrierSegment.Result good = run.segment().run(first.next(), 2);
            assertEquals(6, good.next().iteration());
            assertTrue(Arrays.stream(good.losses()).allMatch(Double::isFinite), Arrays.toString(good.losses()));
            float[] weights = good.weights();
            assertTrue(java.util.stream.IntStream.range(0, weights.length).allMatch(i -> Float.isFinite(weights[i])),
                    "the last good weights are finite");
            try (Setup clean = setup(1, m -> m)) {
                assertSameState(BarrierRuns.until(clean.segment(), clean.start(), 6), good);
            }
        }
    }

    @Test
    void anInfiniteGradientUnderAFiniteLossStops() {
        try (Setup run = setup(1, m -> new InjectedFault(m, InjectedFault.Kind.INF_GRADIENT, 2))) {
            run.segment().nonFinite(NonFinitePolicy.stop());
            NonFiniteTrainingException stop = assertThrows(NonFiniteTrainingException.class,
                    () -> BarrierRuns.until(run.segment(), run.start(), TOTAL));
            assertEquals(2, stop.step().iteration());
            assertTrue(Double.isFinite(stop.step().loss()), "the loss was finite: " + stop.getMessage());
            assertFalse(Double.isFinite(stop.step().gradientNorm()), stop.getMessage());
            assertTrue(stop.getMessage().startsWith("non-finite gradient norm "), stop.getMessage());
        }
    }

    @Test
    void aNanLossUnderAFiniteGradientStops() {
        try (Setup run = setup(1, m -> m, () -> DataParallelStep.meanOverGlobalBatch(
                new NanLossAt(BarrierRuns.tensors(Criteria.classNll()), 3)))) {
            run.segment().nonFinite(NonFinitePolicy.stop());
            NonFiniteTrainingException stop = assertThrows(NonFiniteTrainingException.class,
                    () -> BarrierRuns.until(run.segment(), run.start(), TOTAL));
            assertEquals(3, stop.step().iteration());
            assertTrue(Double.isNaN(stop.step().loss()), stop.getMessage());
            assertTrue(Double.isFinite(stop.step().gradientNorm()), "the gradient was finite: " + stop.getMessage());
        }
    }

    @Test
    void skippedStepsLeaveTheStateOfARunWithoutThem() {
        // 3: the last iteration of the first segment (the EMA's pending skip crosses the segment boundary); 6
        BarrierSegment.Result skipped;
        try (Setup run = setup(1, m -> new InjectedFault(m, InjectedFault.Kind.NAN_INPUT, 3, 6))) {
            run.segment().nonFinite(NonFinitePolicy.skip(2));
            BarrierSegment.Result first = BarrierRuns.until(run.segment(), run.start(), 4);
            assertTrue(first.emaSkipsNextFold(), "the dropped step's fold is pending at the segment's end");
            skipped = BarrierRuns.until(run.segment(), first.next(), TOTAL);
        }
        assertEquals(List.of(3L, 6L), skipped.skipped());
        assertEquals(TOTAL, skipped.next().iteration());

        BarrierSegment.Result expected = reference(1, 3, 6);
        assertSameState(expected, skipped);
        assertEquals(TOTAL - 2, skipped.emaUpdates(), "one fold per applied step");
        assertEquals(TOTAL, skipped.optimizer().get("fc1").step(), "dropped steps are counted as steps");

        // controls: the reference is not the same as training straight through, nor as a reference with one hole
        assertTrue(maxDifference(expected, reference(1)) > 1e-3, "the skipped steps changed nothing");
        assertTrue(maxDifference(expected, reference(1, 3)) > 1e-4, "the second skipped step changed nothing");
    }

    @Test
    void anInfiniteGradientIsSkippedLikeANanOutput() {
        try (Setup run = setup(1, m -> new InjectedFault(m, InjectedFault.Kind.INF_GRADIENT, 5))) {
            run.segment().nonFinite(NonFinitePolicy.skip(1));
            assertSameState(reference(1, 5), BarrierRuns.until(run.segment(), run.start(), TOTAL));
        }
    }

    @Test
    void underAccumulationANonFiniteMicroBatchDropsItsGroupsStep() {
        // micro-batches 2 (first of group 1) and 7 (last of group 3): groups 1 and 3 do not step
        BarrierSegment.Result skipped;
        try (Setup run = setup(2, m -> new InjectedFault(m, InjectedFault.Kind.NAN_INPUT, 2, 7))) {
            run.segment().nonFinite(NonFinitePolicy.skip(5));
            skipped = BarrierRuns.stops(run.segment(), run.start(), 3, TOTAL); // a segment ends inside the group
        }
        assertEquals(List.of(2L, 7L), skipped.skipped());
        BarrierSegment.Result expected = reference(2, 2, 6);
        assertSameState(expected, skipped);
        assertTrue(maxDifference(expected, reference(2)) > 1e-3, "the dropped steps changed nothing");
    }

    /**
     * One NaN element in the last parameter's gradient: it lies in the last task's chunk of the exchange; every task
     * sees the non-finite norm and drops the step alike (the driver checks that the replicas stayed identical).
     */
    @Test
    void everyTaskDropsTheStepWhenOneChunkIsNonFinite() {
        BarrierSegment.Result skipped;
        try (Setup run = setup(1, m -> new InjectedFault(m, InjectedFault.Kind.NAN_LAST_GRADIENT, 4))) {
            run.segment().nonFinite(NonFinitePolicy.skip(1));
            skipped = BarrierRuns.until(run.segment(), run.start(), TOTAL);
        }
        assertEquals(List.of(4L), skipped.skipped());
        assertEquals(SharedSpark.CORES, skipped.tasks());
        BarrierSegment.Result expected = reference(1, 4);
        assertSameState(expected, skipped);
        assertTrue(maxDifference(skipped, reference(1)) > 1e-3, "the skipped step changed nothing");
    }

    /** Training from NaN weights stops at its first iteration, before any update, with the one-line message. */
    @Test
    void nonFiniteStartingWeightsStopTheFirstIteration() {
        try (Setup run = setup(1, m -> m)) {
            float[] weights = run.start().weights().clone();
            weights[85] = Float.NaN;
            BarrierSegment.Start poisoned = new BarrierSegment.Start(0, weights, run.start().optimizer());
            NonFiniteTrainingException stop = assertThrows(NonFiniteTrainingException.class,
                    () -> run.segment().run(poisoned, 4));
            assertEquals(0, stop.step().iteration());
            assertTrue(stop.getMessage().startsWith("non-finite loss NaN") && stop.getMessage().endsWith(
                    "at iteration 1 (epoch 1)"), stop.getMessage());
        }
    }

    @Test
    void theBoundOfSkippedStepsStopsTheNextOne() {
        try (Setup run = setup(1, m -> new InjectedFault(m, InjectedFault.Kind.NAN_INPUT, 3, 6))) {
            run.segment().nonFinite(NonFinitePolicy.skip(1));
            BarrierSegment.Result first = BarrierRuns.until(run.segment(), run.start(), 4);
            assertEquals(List.of(3L), first.skipped());
            NonFiniteTrainingException stop = assertThrows(NonFiniteTrainingException.class,
                    () -> BarrierRuns.until(run.segment(), first.next(), TOTAL));
            assertEquals(6, stop.step().iteration());
            assertEquals(1, stop.skippedBefore());
            assertTrue(stop.getMessage().endsWith("after 1 skipped steps"), stop.getMessage());
        }
    }

    @Test
    void theGuardClipsExactlyAsWithoutItAndChangesNothingWithoutFaults() {
        BarrierSegment.Result plain;
        try (Setup run = setup(1, m -> m)) {
            run.segment().nonFinite(NonFinitePolicy.stop());
            BarrierSegment.Result first = run.segment().run(run.start(), 4);
            assertTrue(Arrays.stream(first.norms()).anyMatch(n -> n > 0.5), "no step clipped: "
                    + Arrays.toString(first.norms()));
            plain = BarrierRuns.until(run.segment(), first.next(), TOTAL);
        }
        BarrierSegment.Result guarded;
        try (Setup run = setup(1, m -> m)) {
            run.segment().nonFinite(NonFinitePolicy.skip(3));
            guarded = BarrierRuns.until(run.segment(), run.start(), TOTAL);
        }
        assertTrue(guarded.skipped().isEmpty());
        assertSameState(plain, guarded);
    }

    /**
     * The guard and clipping cost no Spark job: every segment is one barrier job, whether it clips, skips steps (at 2
     * and 5, in both segments) or neither.
     */
    @Test
    void theGuardAndClippingAddNoJob() {
        List<List<String>> jobs = new java.util.ArrayList<>();
        for (boolean guarded : new boolean[] {false, true}) {
            try (Setup run = setup(1, m -> new InjectedFault(m, InjectedFault.Kind.NAN_INPUT,
                    guarded ? new long[] {2, 5} : new long[0]))) {
                run.segment().clipGradientNorm(guarded ? 0.5 : 0).nonFinite(guarded ? NonFinitePolicy.skip(2)
                        : NonFinitePolicy.stop());
                BarrierSegment.Result[] end = new BarrierSegment.Result[1];
                jobs.add(SparkJobNames.of(SharedSpark.context().sc(),
                        () -> end[0] = BarrierRuns.stops(run.segment(), run.start(), 3, 8)));
                assertEquals(guarded ? List.of(2L, 5L) : List.of(), end[0].skipped());
            }
        }
        assertEquals(3, jobs.get(0).size(), "one job per segment (3, 1 and 4 iterations): " + jobs.get(0));
        assertEquals(jobs.get(0), jobs.get(1), "the guarded, clipped run starts the jobs of a plain one");
    }

    /**
     * Skip at 3, a checkpoint at 4 (the start serialized and read back), resumed in a fresh segment whose fault is at
     * 6: the start's skip counts against the bound of 1, so 6 stops the run.
     */
    @Test
    void resumingAfterASkipKeepsTheSkipsAndTheirBound() {
        BarrierSegment.Start checkpoint;
        try (Setup first = setup(1, m -> new InjectedFault(m, InjectedFault.Kind.NAN_INPUT, 3))) {
            first.segment().nonFinite(NonFinitePolicy.skip(1));
            checkpoint = BarrierRuns.copy(BarrierRuns.until(first.segment(), first.start(), 4).next());
        }
        assertEquals(List.of(3L), checkpoint.skipped());
        assertTrue(checkpoint.emaSkipsNextFold(), "the dropped step's fold is pending in the checkpoint");
        try (Setup second = setup(1, m -> new InjectedFault(m, InjectedFault.Kind.NAN_INPUT, 6))) {
            second.segment().nonFinite(NonFinitePolicy.skip(1));
            NonFiniteTrainingException stop = assertThrows(NonFiniteTrainingException.class,
                    () -> BarrierRuns.until(second.segment(), checkpoint, TOTAL));
            assertEquals(6, stop.step().iteration());
            assertEquals(1, stop.skippedBefore());
        }
    }
}
