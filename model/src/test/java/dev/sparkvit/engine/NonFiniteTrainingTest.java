package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.nn.Sequential;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.model.optim.AdamW;
import dev.sparkvit.model.optim.SgdMomentum;
import dev.sparkvit.model.optim.WarmupCosine;
import dev.sparkvit.testing.InjectedFault;
import dev.sparkvit.testing.NanLossAt;
import dev.sparkvit.testing.SharedSpark;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link NonFiniteGuard} under a real DistriOptimizer (local[2]: one partition of two replicas; and two partitions of
 * one replica each, as two executors), with per-group AdamW and SGD, decoupled weight decay, clipping and an EMA, and
 * a deterministic fault ({@link InjectedFault}: a NaN output or an infinite incoming gradient at chosen iterations,
 * counted by every replica; {@link NanLossAt}: a NaN loss with a finite gradient).
 *
 * <p>Stop: training ends at exactly the faulty iteration, before its update. Skip: the run ends bit-identical to a
 * reference built without any guard or fault, in which the faulty iteration's step never happened: the same run is
 * trained until that iteration, its state (weights, EMA, every group's moments gathered from the partitions) is put
 * into a fresh run whose counters (iteration, data position, method step counts, the EMA's forward count) are one
 * iteration further on, and training continues. That is the documented meaning of a skipped step: the iteration
 * consumes its batch and moves every counter and schedule on, and changes no weight, moment or EMA.
 */
@ExtendWith(SharedSpark.class)
class NonFiniteTrainingTest {
    private static final int BATCH = 16; // 64 samples: 4 iterations per epoch
    private static final int SAMPLES = 64;
    private static final long TOTAL = 10;
    private static final double EMA_DECAY = 0.9;

    private record Setup(Sequential<Float> model, EmaContainer ema, DistributedTraining training,
            Map<String, PartitionedOptimizerState.Slice> slices, int flat, int accumulation) {
    }

    /** What a run ends with. */
    private record State(float[][] weights, List<float[]> ema, long emaUpdates,
            Map<String, PartitionedOptimizerState.GroupState> optimizer) {
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
     * The model of SegmentedTrainingTest under an EMA, optionally with a fault around it: per-group AdamW (fc1) and
     * SGD (fc2), decoupled decay of both weight matrices, clipping at 0.5.
     */
    private static Setup setup(int accumulation, UnaryOperator<AbstractModule<?, ?, Float>> fault,
            com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractCriterion<?, ?, Float> criterion) {
        Sequential<Float> model = SegmentedTrainingTest.model();
        EmaContainer ema = new EmaContainer(fault.apply(model), EMA_DECAY, true, accumulation);
        int flat = ema.getParameters()._1().nElement();
        Map<String, OptimMethod<Float>> methods = new LinkedHashMap<>();
        Map<String, AbstractModule<?, ?, Float>> groups = new LinkedHashMap<>();
        for (String name : List.of("fc1", "fc2")) {
            methods.put(name, method(name, accumulation));
            groups.put(name, model.apply(name).get());
        }
        List<Tensor<Float>> weights = ModuleParameters.weights(model);
        DecoupledWeightDecay decay = new DecoupledWeightDecay(0.1, List.of(
                DecoupledWeightDecay.rangeOf(weights.get(0), i -> 0.05),
                DecoupledWeightDecay.rangeOf(weights.get(2), i -> 0.1))).everySteps(accumulation);
        DistributedTraining training = DistributedTraining.of(ema, SegmentedTrainingTest.data(), criterion, BATCH)
                .optimMethods(methods)
                .clipGradientNorm(0.5)
                .parameterProcessor(decay);
        return new Setup(model, ema, training, PartitionedOptimizerState.slices(ema, groups), flat, accumulation);
    }

    private static Setup setup(int accumulation, UnaryOperator<AbstractModule<?, ?, Float>> fault) {
        return setup(accumulation, fault, Criteria.classNll());
    }

    private static State state(Setup run) {
        run.ema().update(); // fold in the final weights, as the jobs do
        List<float[]> averages = new ArrayList<>();
        run.ema().averagedWeights().forEach(t -> averages.add(Tensors.toArray(t)));
        return new State(ModuleParameters.snapshot(run.model()), averages, run.ema().updateCount(),
                PartitionedOptimizerState.gather(run.training().partitionMethods(), run.slices(), run.flat()));
    }

    private static DistributedTraining.Progress progressAt(long iterations) {
        return new DistributedTraining.Progress(iterations, (int) (iterations * BATCH / SAMPLES),
                iterations * BATCH % SAMPLES);
    }

    /**
     * The reference: no guard, no fault; at each of {@code holes} (0-based iterations, group starts under
     * accumulation) the run stops, and a fresh run continues from its state with every counter one step
     * ({@code accumulation} iterations) further on.
     */
    private static State reference(int accumulation, long... holes) {
        Setup run = setup(accumulation, m -> m);
        for (long hole : holes) {
            if (hole > run.training().progress().iterations()) {
                run.training().trainUntil(hole);
            }
            float[][] weights = ModuleParameters.snapshot(run.model());
            List<float[]> averages = new ArrayList<>();
            run.ema().averagedWeights().forEach(t -> averages.add(Tensors.toArray(t)));
            long updates = run.ema().updateCount();
            Map<String, PartitionedOptimizerState.GroupState> moved = new LinkedHashMap<>();
            PartitionedOptimizerState.gather(run.training().partitionMethods(), run.slices(), run.flat())
                    .forEach((group, s) -> moved.put(group, new PartitionedOptimizerState.GroupState(
                            s.step() + accumulation, s.buffers())));

            Setup next = setup(accumulation, m -> m);
            List<Tensor<Float>> target = ModuleParameters.weights(next.model());
            for (int i = 0; i < weights.length; i++) {
                target.get(i).copy(Tensors.of(weights[i], Tensors.shape(target.get(i))));
            }
            long resumeAt = hole + accumulation;
            next.ema().restore(averages, updates, resumeAt);
            next.training().resume(progressAt(resumeAt), PartitionedOptimizerState.scatter(moved, next.slices(),
                    next.flat(), BigDlEngine.nodeNumber(), group -> method(group, accumulation)));
            run = next;
        }
        run.training().trainUntil(TOTAL);
        return state(run);
    }

    private static void assertSameState(State expected, State actual) {
        for (int i = 0; i < expected.weights().length; i++) {
            assertArrayEquals(expected.weights()[i], actual.weights()[i], "weight tensor " + i);
        }
        for (int i = 0; i < expected.ema().size(); i++) {
            assertArrayEquals(expected.ema().get(i), actual.ema().get(i), "EMA tensor " + i);
        }
        assertEquals(expected.emaUpdates(), actual.emaUpdates(), "EMA updates");
        assertEquals(expected.optimizer().keySet(), actual.optimizer().keySet());
        expected.optimizer().forEach((group, state) -> {
            PartitionedOptimizerState.GroupState other = actual.optimizer().get(group);
            assertEquals(state.step(), other.step(), group + " steps");
            assertEquals(state.buffers().keySet(), other.buffers().keySet(), group + " buffers");
            state.buffers().forEach((name, values) -> assertArrayEquals(values, other.buffers().get(name),
                    group + " " + name));
        });
    }

    private static double maxDifference(State a, State b) {
        double max = 0;
        for (int i = 0; i < a.weights().length; i++) {
            max = Math.max(max, dev.sparkvit.testing.TestTensors.maxAbsDiff(a.weights()[i], b.weights()[i]));
        }
        return max;
    }

    @Test
    void stopEndsTrainingAtTheFaultyIterationBeforeItsUpdate(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) {
        Setup run = setup(1, m -> new InjectedFault(m, InjectedFault.Kind.NAN_INPUT, 6));
        run.training().nonFinite(NonFinitePolicy.stop()).summary(tmp, "stop");
        run.training().trainUntil(4);
        NonFiniteTrainingException stop = assertThrows(NonFiniteTrainingException.class,
                () -> run.training().trainUntil(TOTAL));
        assertEquals(6, stop.step().iteration());
        assertEquals(1, stop.step().epoch());
        assertTrue(Double.isNaN(stop.step().loss()) && Double.isNaN(stop.step().gradientNorm()), stop.getMessage());
        assertEquals("non-finite loss NaN, gradient norm NaN at iteration 7 (epoch 2)", stop.getMessage());
        // iterations 0..5 completed (the counters advance after an update); iteration 6 did not
        assertEquals(new DistributedTraining.Progress(6, 1, 2 * BATCH), run.training().progress());
        float[] losses = run.training().lossHistory();
        assertEquals(6, losses.length, "no loss logged for the stopped iteration");
        for (float loss : losses) {
            assertTrue(Float.isFinite(loss), "loss " + loss);
        }
        assertThrows(IllegalStateException.class, () -> run.training().trainUntil(TOTAL),
                "a stopped training cannot go on");
        long replicaCaches = scala.collection.JavaConverters.mapAsJavaMap(SharedSpark.context().sc()
                .getPersistentRDDs()).values().stream().filter(r -> "Thread Model RDD".equals(r.name())).count();
        assertEquals(0, replicaCaches, "the stopped segment's replicas are released");
        run.training().close();
    }

    @Test
    void anInfiniteGradientUnderAFiniteLossStops() {
        Setup run = setup(1, m -> new InjectedFault(m, InjectedFault.Kind.INF_GRADIENT, 2));
        run.training().nonFinite(NonFinitePolicy.stop());
        NonFiniteTrainingException stop = assertThrows(NonFiniteTrainingException.class,
                () -> run.training().trainUntil(TOTAL));
        assertEquals(2, stop.step().iteration());
        assertTrue(Double.isFinite(stop.step().loss()), "the loss was finite: " + stop.getMessage());
        assertFalse(Double.isFinite(stop.step().gradientNorm()), stop.getMessage());
        assertTrue(stop.getMessage().startsWith("non-finite gradient norm "), stop.getMessage());
    }

    @Test
    void aNanLossUnderAFiniteGradientStops() {
        Setup run = setup(1, m -> m, new NanLossAt(Criteria.classNll(), 5));
        run.training().nonFinite(NonFinitePolicy.stop());
        NonFiniteTrainingException stop = assertThrows(NonFiniteTrainingException.class,
                () -> run.training().trainUntil(TOTAL));
        assertEquals(5, stop.step().iteration());
        assertTrue(Double.isNaN(stop.step().loss()), stop.getMessage());
        assertTrue(Double.isFinite(stop.step().gradientNorm()), "the gradient was finite: " + stop.getMessage());
    }

    @Test
    void skippedStepsLeaveTheStateOfARunWithoutThem() {
        // 3: the last iteration of the first segment (the EMA's pending skip crosses the segment boundary); 6
        Setup run = setup(1, m -> new InjectedFault(m, InjectedFault.Kind.NAN_INPUT, 3, 6));
        List<NonFiniteStep> told = new ArrayList<>();
        run.training().nonFinite(NonFinitePolicy.skip(2)).onSkippedStep(told::add);
        run.training().trainUntil(4);
        run.training().trainUntil(TOTAL);
        assertEquals(List.of(3L, 6L), run.training().skippedIterations());
        assertEquals(List.of(3L, 6L), told.stream().map(NonFiniteStep::iteration).toList());
        assertEquals(2, told.get(1).skippedSoFar());
        assertEquals(new DistributedTraining.Progress(TOTAL, 2, 2 * BATCH), run.training().progress());
        State skipped = state(run);

        State expected = reference(1, 3, 6);
        assertSameState(expected, skipped);
        assertEquals(TOTAL - 2 + 1, skipped.emaUpdates(), "one fold per applied step, and the final one");
        assertEquals(TOTAL, skipped.optimizer().get("fc1").step(), "dropped steps are counted as steps");

        // controls: the reference is not the same as training straight through, nor as a reference with one hole
        assertTrue(maxDifference(expected, reference(1)) > 1e-3, "the skipped steps changed nothing");
        assertTrue(maxDifference(expected, reference(1, 3)) > 1e-4, "the second skipped step changed nothing");
    }

    @Test
    void anInfiniteGradientIsSkippedLikeANanOutput() {
        Setup run = setup(1, m -> new InjectedFault(m, InjectedFault.Kind.INF_GRADIENT, 5));
        run.training().nonFinite(NonFinitePolicy.skip(1));
        run.training().trainUntil(TOTAL);
        assertSameState(reference(1, 5), state(run));
    }

    @Test
    void underAccumulationANonFiniteMicroBatchDropsItsGroupsStep() {
        // micro-batches 2 (first of group 1) and 7 (last of group 3): groups 1 and 3 do not step
        Setup run = setup(2, m -> new InjectedFault(m, InjectedFault.Kind.NAN_INPUT, 2, 7));
        run.training().nonFinite(NonFinitePolicy.skip(5));
        run.training().trainUntil(3); // a segment ends inside the poisoned group
        run.training().trainUntil(TOTAL);
        assertEquals(List.of(2L, 7L), run.training().skippedIterations());
        State skipped = state(run);
        assertSameState(reference(2, 2, 6), skipped);
        assertEquals(5 - 2 + 1, skipped.emaUpdates(), "one fold per applied step of 2, and the final one");
    }

    /**
     * Two partitions of one replica each (DLlib's Engine told there are 2 executors of 1 core: the flat buffer is cut
     * into two chunks, each aggregated and updated by its own task). The fault makes only the last parameter's
     * gradient NaN, which lies in the second chunk; the first partition must drop the step just the same.
     */
    @Test
    void twoPartitionsDropTheStepAlikeWhenOneChunkIsNonFinite() {
        com.intel.analytics.bigdl.dllib.utils.Engine$.MODULE$.setNodeAndCore(2, 1);
        try {
            assertEquals(2, BigDlEngine.nodeNumber());
            Setup run = setup(1, m -> new InjectedFault(m, InjectedFault.Kind.NAN_LAST_GRADIENT, 4));
            assertTrue(run.flat() - 1 >= PartitionedOptimizerState.chunk(run.flat(), 2, 1).start(),
                    "the poisoned element is in the second partition's chunk");
            List<NonFiniteStep> told = new ArrayList<>();
            run.training().nonFinite(NonFinitePolicy.skip(1)).onSkippedStep(told::add);
            run.training().trainUntil(TOTAL);
            assertEquals(2, run.training().partitionMethods().size(), "two partitions trained");
            assertEquals(1, told.size());
            assertTrue(Double.isFinite(told.get(0).loss()) && Double.isNaN(told.get(0).gradientNorm()),
                    told.get(0).describe());
            State skipped = state(run);
            assertSameState(reference(1, 4), skipped);
            assertTrue(maxDifference(skipped, reference(1)) > 1e-3, "the skipped step changed nothing");
        } finally {
            com.intel.analytics.bigdl.dllib.utils.Engine$.MODULE$.setNodeAndCore(1, SharedSpark.CORES);
        }
    }

    /**
     * Training refuses to start from NaN weights with a message saying so; without the check DLlib's set-up fails on
     * them with "All subModules should have an OptimMethod" (it compares weight tensors by value, and NaN != NaN).
     */
    @Test
    void nonFiniteStartingWeightsAreRefusedBeforeAnyWork() {
        Setup run = setup(1, m -> m);
        ModuleParameters.weights(run.model()).get(2).setValue(1, 2, Float.NaN);
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> run.training().trainUntil(TOTAL));
        assertTrue(refused.getMessage().startsWith("the model's weights hold 1 NaN or infinite values before "
                + "training (the first, NaN, at element 85 of the flat parameter buffer)"), refused.getMessage());
    }

    @Test
    void theBoundOfSkippedStepsStopsTheNextOne() {
        Setup run = setup(1, m -> new InjectedFault(m, InjectedFault.Kind.NAN_INPUT, 3, 6));
        run.training().nonFinite(NonFinitePolicy.skip(1));
        NonFiniteTrainingException stop = assertThrows(NonFiniteTrainingException.class,
                () -> run.training().trainUntil(TOTAL));
        assertEquals(6, stop.step().iteration());
        assertEquals(1, stop.skippedBefore());
        assertEquals(List.of(3L), run.training().skippedIterations());
        assertTrue(stop.getMessage().endsWith("after 1 skipped steps"), stop.getMessage());
    }

    @Test
    void theGuardClipsExactlyAsDllibAndChangesNothingWithoutFaults() {
        Setup plain = setup(1, m -> m);
        plain.training().trainUntil(TOTAL);
        Setup guarded = setup(1, m -> m);
        guarded.training().nonFinite(NonFinitePolicy.skip(3));
        guarded.training().trainUntil(TOTAL);
        assertTrue(guarded.training().skippedIterations().isEmpty());
        assertSameState(state(plain), state(guarded));
    }

    @Test
    void resumingAfterASkipKeepsTheSkipsAndTheirBound() {
        // skip at 3, checkpoint-like stop at 4, resume with the skipped list: the bound of 1 is used up at 6
        Setup first = setup(1, m -> new InjectedFault(m, InjectedFault.Kind.NAN_INPUT, 3));
        first.training().nonFinite(NonFinitePolicy.skip(1));
        first.training().trainUntil(4);
        assertTrue(first.ema().skipsNextFold(), "the dropped step's fold is pending on the driver's EMA");

        Setup second = setup(1, m -> new InjectedFault(m, InjectedFault.Kind.NAN_INPUT, 2)); // counts from 4: 6
        List<Tensor<Float>> target = ModuleParameters.weights(second.model());
        float[][] weights = ModuleParameters.snapshot(first.model());
        for (int i = 0; i < weights.length; i++) {
            target.get(i).copy(Tensors.of(weights[i], Tensors.shape(target.get(i))));
        }
        List<float[]> averages = new ArrayList<>();
        first.ema().averagedWeights().forEach(t -> averages.add(Tensors.toArray(t)));
        second.ema().restore(averages, first.ema().updateCount(), 4, NonFiniteGuard.stepDropped(
                first.training().skippedIterations(), 3, 1));
        second.training().nonFinite(NonFinitePolicy.skip(1)).resume(first.training().progress(),
                PartitionedOptimizerState.scatter(PartitionedOptimizerState.gather(first.training().partitionMethods(),
                        first.slices(), first.flat()), second.slices(), second.flat(), BigDlEngine.nodeNumber(),
                        group -> method(group, 1)), first.training().skippedIterations());
        NonFiniteTrainingException stop = assertThrows(NonFiniteTrainingException.class,
                () -> second.training().trainUntil(TOTAL));
        assertEquals(6, stop.step().iteration());
        assertEquals(1, stop.skippedBefore());
    }
}
