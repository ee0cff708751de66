package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.feature.dataset.MiniBatch;
import com.intel.analytics.bigdl.dllib.feature.dataset.Sample;
import com.intel.analytics.bigdl.dllib.feature.dataset.SampleToMiniBatch;
import com.intel.analytics.bigdl.dllib.feature.dataset.SampleToMiniBatch$;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.model.optim.AdamW;
import dev.sparkvit.model.optim.FreezeOutSchedule;
import dev.sparkvit.model.optim.SgdMomentum;
import dev.sparkvit.model.vit.Head;
import dev.sparkvit.model.vit.ParameterGroup;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.testing.SharedSpark;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import scala.Option;
import scala.Tuple2;
import scala.collection.JavaConverters;

/**
 * {@link BarrierSegment} with what DistriOptimizer's path has beyond one method: parameter groups on their own rates,
 * FreezeOut (the frozen prefix's backward skipped in every task), LARS on the exchanged gradient, gradient
 * accumulation and skipping non-finite steps. Each runs on local[2] (2 tasks, 41 images) against one replica trained
 * on the driver on the same global batches with the same methods (a fresh set: the reference never shares an object
 * with the segment), within relative 1e-5 of the weights; each also checks that the feature changed the result far
 * beyond that tolerance (a control without it), so that the comparison cannot pass by doing nothing.
 */
@ExtendWith(SharedSpark.class)
class BarrierSegmentGroupsTest {
    private static final int BATCH = 8;
    private static final int IMAGES = 41;
    private static final long SEED = 7;
    private static final double CLIP = 0.5;
    private static final BarrierSegmentCheck.Kind KIND = BarrierSegmentCheck.Kind.CROSS_ENTROPY;
    /** The EMA's bound against one replica's EmaContainer. */
    private static final double EMA_RELATIVE = 1e-6;

    /** A method factory per group: every call a fresh method (segment and reference never share one). */
    private interface Methods extends Function<String, OptimMethod<Float>>, java.io.Serializable {
    }

    /** Three kinds of methods on different rates: the stem, each block and the rest differ. */
    private static final Methods GROUP_RATES = group -> group.equals("stem")
            ? new SgdMomentum(i -> 0.2, 0.9, false)
            : group.startsWith("blocks.") ? AdamW.of(i -> 1e-3 * (1 + Integer.parseInt(group.substring(7))), 0)
            : new SgdMomentum(i -> 0.01 * (1 + i), 0.5, true);

    private static final Methods ONE_RATE = group -> new SgdMomentum(i -> 0.05, 0.9, false);

    /** The accumulation tests' inner methods: two kinds of SGD. */
    private static final Methods INNER = group -> group.startsWith("blocks.") ? new SgdMomentum(i -> 0.1, 0.9, false)
            : new SgdMomentum(i -> 0.03, 0.5, false);

    /** Each method behind a {@link GradientAccumulation} of 2 micro-batches. */
    private static final Function<Methods, Methods> ACCUMULATE_2 = m -> group -> new GradientAccumulation<>(
            (SgdMomentum) m.apply(group), 2);

    private static VisionTransformer vit(FreezeOutSchedule freezeOut) {
        return freezeOut == null ? VisionTransformer.classifier(DataParallelStepCheck.config(),
                BarrierSegmentCheck.CLASSES, SEED) : VisionTransformer.withFreezeOut(DataParallelStepCheck.config(),
                Head.classifier(BarrierSegmentCheck.CLASSES), SEED, freezeOut);
    }

    @SuppressWarnings("unchecked")
    private static AbstractModule<Activity, Activity, Float> module(VisionTransformer vit) {
        AbstractModule<Activity, Activity, Float> module =
                (AbstractModule<Activity, Activity, Float>) (AbstractModule<?, ?, Float>) vit.module();
        module.getParameters();
        return module;
    }

    private static Map<String, PartitionedOptimizerState.Slice> slices(VisionTransformer vit) {
        Map<String, AbstractModule<?, ?, Float>> modules = new LinkedHashMap<>();
        for (ParameterGroup group : vit.parameterGroups()) {
            modules.put(group.name(), group.module());
        }
        return PartitionedOptimizerState.slices(vit.module(), modules);
    }

    private static Map<String, OptimMethod<Float>> methods(VisionTransformer vit, Function<String,
            OptimMethod<Float>> factory) {
        Map<String, OptimMethod<Float>> methods = new LinkedHashMap<>();
        for (ParameterGroup group : vit.parameterGroups()) {
            methods.put(group.name(), factory.apply(group.name()));
        }
        return methods;
    }

    /** LARS over every tensor of more than one dimension, as PretrainOptimizers adapts the decayed ones. */
    private static LarsAdaptation lars(AbstractModule<Activity, Activity, Float> model) {
        List<DecoupledWeightDecay.Range> ranges = new ArrayList<>();
        for (Tensor<Float> w : model.parameters()._1()) {
            if (w.nDimension() > 1) {
                ranges.add(DecoupledWeightDecay.rangeOf(w, i -> 0));
            }
        }
        return new LarsAdaptation(0.02, 1e-3, ranges);
    }

    /**
     * What one replica on the driver did; {@code finalEma} is its EMA after the DistriOptimizer path's final
     * {@code ema.update()}, which fine-tuning calls when the run ends at a step's end (iterations % k == 0).
     */
    private record Reference(float[] weights, float[] initial, double[] losses, float[] ema, long emaUpdates,
            List<Long> skipped, float[] finalEma, long finalEmaUpdates) {
    }

    /** How the driver's replica trains; null fields are off. */
    private record Recipe(FreezeOutSchedule freezeOut, Methods methods, Function<Methods, Methods> wrap,
            boolean lars, BarrierSegment.Ema ema, boolean skipNonFinite, double clip) {
        Methods effective() {
            return wrap == null ? methods : wrap.apply(methods);
        }
    }

    /**
     * One replica over the global batches the segment's tasks take (partition t's next B / T samples, stacked in
     * task order), with the recipe's groups, clipping at {@link #CLIP}, LARS, EMA and the non-finite skip as the
     * DistriOptimizer path has them: each group's method steps on its own slice ({@code narrow}) of the flat weights
     * and gradient, the forward runs through an {@link EmaContainer} of the recipe's interval (its training forward
     * folds), and each iteration's verdict is {@link NonFiniteGuard}'s.
     */
    private static Reference reference(EpochDataSet<Integer> data, int iterations, Recipe recipe) {
        List<List<Sample<Float>>> partitions = data.data(false).toJavaRDD().glom().collect();
        int slice = BATCH / partitions.size();
        VisionTransformer vit = vit(recipe.freezeOut());
        AbstractModule<Activity, Activity, Float> replica = module(vit);
        Tuple2<Tensor<Float>, Tensor<Float>> flat = replica.getParameters();
        float[] initial = Tensors.toArray(flat._1());
        EmaContainer average = recipe.ema() == null ? null
                : new EmaContainer(replica, recipe.ema().decay(), recipe.ema().warmup(), recipe.ema().interval());
        AbstractModule<Activity, Activity, Float> forward = average != null ? average : replica;
        forward.training();
        Map<String, OptimMethod<Float>> methods = methods(vit, recipe.effective());
        int stepEvery = methods.values().iterator().next() instanceof GradientAccumulation<?> accumulation
                ? accumulation.steps() : 1;
        NonFinitePolicy policy = recipe.skipNonFinite() ? NonFinitePolicy.skip(2) : NonFinitePolicy.stop();
        Map<String, PartitionedOptimizerState.Slice> slices = slices(vit);
        LarsAdaptation lars = recipe.lars() ? lars(replica) : null;
        var criterion = BarrierSegmentCheck.crossEntropy();
        SampleToMiniBatch<Float> toBatch = SampleToMiniBatch$.MODULE$.apply(BATCH, Option.empty(), Option.empty(),
                Option.apply((Object) 1), true, FloatTypes.TAG, FloatTypes.NUMERIC);
        double[] losses = new double[iterations];
        List<Long> skipped = new ArrayList<>();
        for (int k = 0; k < iterations; k++) {
            List<Sample<Float>> whole = new ArrayList<>();
            for (List<Sample<Float>> partition : partitions) {
                for (int j = 0; j < slice; j++) {
                    whole.add(partition.get((k * slice + j) % partition.size()));
                }
            }
            MiniBatch<Float> batch = toBatch.apply(JavaConverters.asScalaIterator(whole.iterator())).next();
            vit.encoder().setIteration(k); // as DistriOptimizer's path sets it
            replica.zeroGradParameters();
            Activity input = batch.getInput();
            Tensor<Float> target = batch.getTarget().toTensor(FloatTypes.NUMERIC);
            // through the EMA container: its forward folds in the weights after the previous step (k % interval == 0)
            Tensor<Float> output = forward.forward(input).toTensor(FloatTypes.NUMERIC);
            float value = criterion.forward(output, target);
            replica.backward(input, criterion.backward(output, target));
            Tensor<Float> gradients = flat._2();
            double norm = BarrierSegmentCheck.norm(Tensors.toArray(gradients));
            losses[k] = value;
            NonFiniteStep seen = new NonFiniteStep(k, 0, value, norm, skipped.size());
            StepVerdict verdict = NonFiniteGuard.decide(policy, stepEvery, seen,
                    NonFiniteGuard.groupHasSkip(skipped, k, stepEvery));
            if (!NonFiniteGuard.finite(seen)) {
                skipped.add((long) k);
            }
            if (verdict != StepVerdict.APPLY) {
                for (OptimMethod<Float> method : methods.values()) {
                    ((FloatOptimMethod) method).verdict(verdict); // gradient left out, or the group's step dropped
                }
                if (verdict == StepVerdict.DROP_STEP && average != null) {
                    average.skipNextFold();
                }
            } else {
                if (recipe.clip() > 0 && norm > recipe.clip()) {
                    gradients.div((float) (norm / recipe.clip()));
                }
                if (lars != null) {
                    lars.adaptWhole(flat._1(), gradients); // as every barrier task does
                }
            }
            for (Map.Entry<String, OptimMethod<Float>> group : methods.entrySet()) {
                PartitionedOptimizerState.Slice s = slices.get(group.getKey());
                Tensor<Float> w = flat._1().narrow(1, s.start() + 1, s.length());
                Tensor<Float> g = gradients.narrow(1, s.start() + 1, s.length());
                group.getValue().optimize(x -> new Tuple2<>(value, g), w);
            }
        }
        float[] ema = null;
        long emaUpdates = 0;
        float[] finalEma = null;
        long finalEmaUpdates = 0;
        if (average != null) {
            ema = flat(average);
            emaUpdates = average.updateCount();
            if (iterations % recipe.ema().interval() == 0) {
                average.update();
            }
            finalEma = flat(average);
            finalEmaUpdates = average.updateCount();
        }
        return new Reference(Tensors.toArray(flat._1()), initial, losses, ema, emaUpdates, skipped, finalEma,
                finalEmaUpdates);
    }

    /** The container's average as one flat array (the model's flat order). */
    private static float[] flat(EmaContainer average) {
        List<float[]> parts = average.averagedWeights().stream().map(Tensors::toArray).toList();
        float[] all = new float[parts.stream().mapToInt(p -> p.length).sum()];
        int at = 0;
        for (float[] part : parts) {
            System.arraycopy(part, 0, all, at, part.length);
            at += part.length;
        }
        return all;
    }

    /** The segment built as the recipe says, over a fresh model of the recipe. */
    private record Built(BarrierSegment segment, BarrierSegment.Start start) implements AutoCloseable {
        @Override
        public void close() {
            segment.close();
        }
    }

    private static Built segment(EpochDataSet<Integer> data, Recipe recipe) {
        VisionTransformer vit = vit(recipe.freezeOut());
        AbstractModule<Activity, Activity, Float> model = module(vit);
        Map<String, OptimMethod<Float>> methods = methods(vit, recipe.effective());
        BarrierSegment segment = new BarrierSegment(model, data, BATCH, BarrierSegmentCheck.loss(KIND), methods,
                slices(vit)).clipGradientNorm(recipe.clip()).ema(recipe.ema());
        if (recipe.lars()) {
            segment.parameterProcessor(lars(model));
        }
        if (recipe.skipNonFinite()) {
            segment.nonFinite(NonFinitePolicy.skip(2));
        }
        return new Built(segment, BarrierSegment.Start.of(model, methods, 0));
    }

    private static String compare(String what, BarrierSegment.Result result, Reference reference,
            Reference control) {
        double error = BarrierSegmentCheck.relative(result.weights(), reference.weights());
        double update = BarrierSegmentCheck.distance(reference.weights(), reference.initial());
        double effect = BarrierSegmentCheck.relative(control.weights(), reference.weights());
        assertTrue(update > 0, what + ": the weights did not move");
        assertTrue(error <= BarrierSegmentCheck.RELATIVE, what + ": weights off by relative " + error);
        assertTrue(effect > 100 * BarrierSegmentCheck.RELATIVE, what + ": without it the weights differ by only "
                + effect);
        for (int k = 0; k < result.losses().length; k++) {
            double expected = reference.losses()[(int) result.firstIteration() + k];
            if (Double.isFinite(expected)) {
                double lossError = Math.abs(result.losses()[k] - expected) / expected;
                assertTrue(lossError <= BarrierSegmentCheck.LOSS_RELATIVE, what + ": loss of iteration "
                        + (result.firstIteration() + k) + " " + result.losses()[k] + ", one replica " + expected);
            }
        }
        return String.format(Locale.ROOT, "%s: weights within relative %.2e of one replica's (%.2e of the update), "
                + "%.2e without it; stage %.2f s", what, error, BarrierSegmentCheck.distance(result.weights(),
                reference.weights()) / update, effect, result.timing().stageSeconds());
    }

    private static void assertSameBits(BarrierSegment.Result whole, BarrierSegment.Result split, String what) {
        assertTrue(Arrays.equals(whole.weights(), split.weights()), what + ": weights");
        assertEquals(whole.optimizer().keySet(), split.optimizer().keySet(), what + ": groups");
        whole.optimizer().forEach((group, state) -> {
            PartitionedOptimizerState.GroupState other = split.optimizer().get(group);
            assertEquals(state.step(), other.step(), what + ": steps of " + group);
            assertEquals(state.buffers().keySet(), other.buffers().keySet(), what + ": buffers of " + group);
            state.buffers().forEach((name, values) -> assertTrue(Arrays.equals(values, other.buffers().get(name)),
                    what + ": " + group + " " + name));
        });
        assertTrue(Arrays.equals(whole.ema(), split.ema()), what + ": EMA");
        assertEquals(whole.emaUpdates(), split.emaUpdates(), what + ": EMA folds");
        assertEquals(whole.skipped(), split.skipped(), what + ": skipped");
    }

    /**
     * The product's groups (stem, blocks.0, blocks.1, neck, head) with three kinds of methods on different rates
     * equal one replica stepping each group's method on its slice; 3 + 2 = 5 bit for bit, each group's state kept by
     * name; one method for all groups (the control) lands elsewhere.
     */
    @Test
    void parameterGroupsWithTheirOwnRatesEqualOneReplica() {
        JavaSparkContext sc = SharedSpark.context();
        EpochDataSet<Integer> data = BarrierSegmentCheck.data(sc, KIND, IMAGES, 2, -1, -1);
        Recipe recipe = new Recipe(null, GROUP_RATES, null, false, null, false, CLIP);
        Reference reference = reference(data, 5, recipe);
        Reference control = reference(data, 5, new Recipe(null, ONE_RATE, null, false, null, false, CLIP));
        try (Built built = segment(data, recipe)) {
            BarrierSegment segment = built.segment();
            assertEquals(List.of("stem", "blocks.0", "blocks.1", "neck", "head"),
                    List.copyOf(segment.groups().names()));
            BarrierSegment.Start start = built.start();
            BarrierSegment.Result whole = segment.run(start, 5);
            String line = compare("5 groups, 3 kinds of methods", whole, reference, control);
            assertEquals(segment.groups().names(), whole.optimizer().keySet());
            whole.optimizer().values().forEach(state -> assertEquals(5, state.step()));
            BarrierSegment.Result first = segment.run(start, 3);
            BarrierSegment.Result second = segment.run(first.next(), 2);
            assertSameBits(whole, second, "3 + 2 and 5 with groups");
            System.out.println("BarrierSegmentGroupsTest: " + line + "; 3 + 2 = 5 bit for bit (weights, every "
                    + "group's steps and buffers)");
        }
    }

    /**
     * FreezeOut: blocks of depth 2 with t0 = 0.5 (linear) over 6 iterations: the stem and block 0 freeze at iteration
     * 3. The groups' SGD has a constant non-zero rate and no momentum, so a frozen group that still got a gradient
     * would move: its weights stay bit for bit from iteration 3 on in the segment (its backward was skipped in every
     * task; the control without FreezeOut moves them), the rest moves, and the whole equals one replica whose encoder
     * is told the iteration as the segment tells every task's copy. 3 + 3 = 6 bit for bit.
     */
    @Test
    void freezeOutSkipsTheFrozenPrefixInEveryTask() {
        JavaSparkContext sc = SharedSpark.context();
        EpochDataSet<Integer> data = BarrierSegmentCheck.data(sc, KIND, 48, 2, -1, -1);
        FreezeOutSchedule schedule = new FreezeOutSchedule(2, 0.5, FreezeOutSchedule.Scaling.LINEAR, 6, 0, 0.05,
                false);
        assertEquals(3, schedule.frozenAfterIteration(0));
        Methods plain = group -> new SgdMomentum(i -> 0.05, 0, false);
        Recipe recipe = new Recipe(schedule, plain, null, false, null, false, CLIP);
        Reference reference = reference(data, 6, recipe);
        Reference control = reference(data, 6, new Recipe(null, plain, null, false, null, false, CLIP));
        try (Built built = segment(data, recipe)) {
            BarrierSegment segment = built.segment();
            BarrierSegment.Start start = built.start();
            BarrierSegment.Result first = segment.run(start, 3);
            BarrierSegment.Result second = segment.run(first.next(), 3);
            String line = compare("FreezeOut (stem and block 0 frozen from iteration 4)", second, reference,
                    control);
            Map<String, PartitionedOptimizerState.Slice> slices = segment.groups().slices();
            for (String group : List.of("stem", "blocks.0")) {
                PartitionedOptimizerState.Slice s = slices.get(group);
                assertTrue(Arrays.equals(slice(first.weights(), s), slice(second.weights(), s)),
                        group + " moved while frozen");
                assertFalse(Arrays.equals(slice(first.weights(), s), slice(start.weights(), s)),
                        group + " did not train before it froze");
                assertFalse(Arrays.equals(slice(second.weights(), s), slice(control.weights(), s)),
                        group + ": the control without FreezeOut should move it on");
            }
            for (String group : List.of("blocks.1", "neck", "head")) {
                PartitionedOptimizerState.Slice s = slices.get(group);
                assertFalse(Arrays.equals(slice(first.weights(), s), slice(second.weights(), s)),
                        group + " did not train after iteration 3");
            }
            BarrierSegment.Result whole = segment.run(start, 6);
            assertSameBits(whole, second, "3 + 3 and 6 with FreezeOut");
            System.out.println("BarrierSegmentGroupsTest: " + line + "; stem and blocks.0 bit for bit unchanged over "
                    + "iterations 4-6 at rate 0.05 (no gradient: backward skipped), the other groups moved; 3 + 3 = 6 "
                    + "bit for bit");
        }
    }

    private static float[] slice(float[] flat, PartitionedOptimizerState.Slice s) {
        return Arrays.copyOfRange(flat, s.start(), s.start() + s.length());
    }

    /**
     * LARS (trust ratios per tensor from the whole exchanged gradient, coupled decay) in front of SGD with momentum
     * per group equals one replica adapting its whole gradient with the same {@link LarsAdaptation}; without LARS
     * the weights land elsewhere.
     */
    @Test
    void larsOnTheExchangedGradientEqualsOneReplica() {
        JavaSparkContext sc = SharedSpark.context();
        EpochDataSet<Integer> data = BarrierSegmentCheck.data(sc, KIND, IMAGES, 2, -1, -1);
        Methods sgd = group -> new SgdMomentum(i -> 0.5, 0.9, false);
        Recipe recipe = new Recipe(null, sgd, null, true, null, false, CLIP);
        Reference reference = reference(data, 5, recipe);
        Reference control = reference(data, 5, new Recipe(null, sgd, null, false, null, false, CLIP));
        try (Built built = segment(data, recipe)) {
            BarrierSegment segment = built.segment();
            BarrierSegment.Start start = built.start();
            BarrierSegment.Result whole = segment.run(start, 5);
            String line = compare("LARS", whole, reference, control);
            BarrierSegment.Result first = segment.run(start, 2);
            assertSameBits(whole, segment.run(first.next(), 3), "2 + 3 and 5 with LARS");
            System.out.println("BarrierSegmentGroupsTest: " + line + "; 2 + 3 = 5 bit for bit");
        }
    }

    /**
     * Gradient accumulation of 2 micro-batches (each iteration one global batch, as on DistriOptimizer) with two
     * kinds of methods, no clipping: equals one replica with the same {@link GradientAccumulation} methods, and one replica stepping
     * the inner methods once on the union of each pair of global batches (batch 16); 3 + 1 = 4 bit for bit (the
     * segment boundary falls inside an accumulation group: the accumulated sum travels in the state).
     */
    @Test
    void gradientAccumulationEqualsTheUnionOfItsMicroBatches() {
        JavaSparkContext sc = SharedSpark.context();
        EpochDataSet<Integer> data = BarrierSegmentCheck.data(sc, KIND, IMAGES, 2, -1, -1);
        Recipe recipe = new Recipe(null, INNER, ACCUMULATE_2, false, null, false, 0);
        Reference reference = reference(data, 4, recipe);
        Reference control = reference(data, 4, new Recipe(null, INNER, null, false, null, false, 0));
        float[] union = union(data, 2, INNER);
        try (Built built = segment(data, recipe)) {
            BarrierSegment segment = built.segment();
            assertEquals(2, segment.groups().stepEvery());
            BarrierSegment.Start start = built.start();
            BarrierSegment.Result whole = segment.run(start, 4);
            String line = compare("accumulation of 2", whole, reference, control);
            double unionError = BarrierSegmentCheck.relative(whole.weights(), union);
            assertTrue(unionError <= BarrierSegmentCheck.RELATIVE, "against 2 steps on the unions: " + unionError);
            BarrierSegment.Result first = segment.run(start, 3);
            assertTrue(first.optimizer().get("head").buffers().containsKey("accumulated_grad"));
            assertSameBits(whole, segment.run(first.next(), 1), "3 + 1 and 4 with accumulation");
            System.out.println("BarrierSegmentGroupsTest: " + line + String.format(Locale.ROOT, "; %.2e from 2 "
                    + "steps on the unions of 2 global batches (batch 16); 3 + 1 = 4 bit for bit", unionError));
        }
    }

    /** One replica taking one step of the inner methods per {@code pairs} pair of global batches, on their union. */
    private static float[] union(EpochDataSet<Integer> data, int pairs, Methods inner) {
        List<List<Sample<Float>>> partitions = data.data(false).toJavaRDD().glom().collect();
        int slice = BATCH / partitions.size();
        VisionTransformer vit = vit(null);
        AbstractModule<Activity, Activity, Float> replica = module(vit);
        Tuple2<Tensor<Float>, Tensor<Float>> flat = replica.getParameters();
        replica.training();
        Map<String, OptimMethod<Float>> methods = methods(vit, inner);
        Map<String, PartitionedOptimizerState.Slice> slices = slices(vit);
        var criterion = BarrierSegmentCheck.crossEntropy();
        SampleToMiniBatch<Float> toBatch = SampleToMiniBatch$.MODULE$.apply(2 * BATCH, Option.empty(),
                Option.empty(), Option.apply((Object) 1), true, FloatTypes.TAG, FloatTypes.NUMERIC);
        for (int p = 0; p < pairs; p++) {
            List<Sample<Float>> both = new ArrayList<>();
            for (int k = 2 * p; k < 2 * p + 2; k++) {
                for (List<Sample<Float>> partition : partitions) {
                    for (int j = 0; j < slice; j++) {
                        both.add(partition.get((k * slice + j) % partition.size()));
                    }
                }
            }
            MiniBatch<Float> batch = toBatch.apply(JavaConverters.asScalaIterator(both.iterator())).next();
            replica.zeroGradParameters();
            Tensor<Float> target = batch.getTarget().toTensor(FloatTypes.NUMERIC);
            Tensor<Float> output = replica.forward(batch.getInput()).toTensor(FloatTypes.NUMERIC);
            float value = criterion.forward(output, target);
            replica.backward(batch.getInput(), criterion.backward(output, target));
            Tensor<Float> gradients = flat._2();
            for (Map.Entry<String, OptimMethod<Float>> group : methods.entrySet()) {
                PartitionedOptimizerState.Slice s = slices.get(group.getKey());
                Tensor<Float> w = flat._1().narrow(1, s.start() + 1, s.length());
                Tensor<Float> g = gradients.narrow(1, s.start() + 1, s.length());
                group.getValue().optimize(x -> new Tuple2<>(value, g), w);
            }
        }
        return Tensors.toArray(flat._1());
    }

    /**
     * {@code training.non_finite: skip}: a NaN pixel in task 1's sample of iteration 4 makes its loss and norm NaN on
     * both tasks; both skip it (no update, no decay, no EMA fold of its weights: EmaContainer's skipNextFold) and go
     * on. The weights and EMA equal one replica's without that update, the result lists iteration 3 (0-based), the
     * EMA has 4 folds for 5 iterations, and 4 + 1 = 5 bit for bit (the pending skipped fold crosses the segments).
     * A run whose bound is used up stops there with the count in its message.
     */
    @Test
    void aSkippedNonFiniteStepEqualsTheRunWithoutItsUpdate() {
        JavaSparkContext sc = SharedSpark.context();
        int slice = BATCH / 2;
        EpochDataSet<Integer> data = BarrierSegmentCheck.data(sc, KIND, 40, 2, 1, 3L * slice + 1);
        BarrierSegment.Ema ema = new BarrierSegment.Ema(0.9, true);
        Recipe recipe = new Recipe(null, GROUP_RATES, null, false, ema, true, CLIP);
        Reference reference = reference(data, 5, recipe);
        assertEquals(List.of(3L), reference.skipped());
        try (Built built = segment(data, recipe)) {
            BarrierSegment segment = built.segment();
            BarrierSegment.Start start = built.start();
            BarrierSegment.Result whole = segment.run(start, 5);
            assertEquals(List.of(3L), whole.skipped());
            assertEquals(List.of(3L), whole.skippedHere());
            assertTrue(Double.isNaN(whole.losses()[3]) && Double.isNaN(whole.norms()[3]));
            whole.optimizer().values().forEach(state -> assertEquals(5, state.step(), "a skipped step counts"));
            // the control: the same data and methods with the poisoned iteration's update applied is impossible
            // (NaN weights), so the effect is against the run of 5 clean iterations on unpoisoned data
            Reference clean = reference(BarrierSegmentCheck.data(sc, KIND, 40, 2, -1, -1), 5,
                    new Recipe(null, GROUP_RATES, null, false, ema, false, CLIP));
            String line = compare("skip of iteration 4", whole, reference, clean);
            assertEquals(4, whole.emaUpdates(), "the skipped step's weights are not folded in again");
            assertEquals(reference.emaUpdates(), whole.emaUpdates());
            double emaError = BarrierSegmentCheck.relative(whole.ema(), reference.ema());
            assertTrue(emaError <= BarrierSegmentCheck.RELATIVE, "EMA off by relative " + emaError);

            BarrierSegment.Result first = segment.run(start, 4);
            assertTrue(first.emaSkipsNextFold(), "the skipped last iteration's fold is pending");
            assertEquals(List.of(3L), first.skipped());
            BarrierSegment.Result second = segment.run(first.next(), 1);
            assertEquals(List.of(), second.skippedHere());
            assertSameBits(whole, second, "4 + 1 and 5 with a skipped step");

            // the bound (2) counts the start's skips: with two already skipped, iteration 4 stops the run
            BarrierSegment.Start used = new BarrierSegment.Start(0, start.weights(), start.optimizer(), null, 0,
                    false, List.of(100L, 101L));
            NonFiniteTrainingException stop = assertThrows(NonFiniteTrainingException.class,
                    () -> segment.run(used, 5));
            assertEquals(3, stop.step().iteration());
            assertEquals(2, stop.skippedBefore(), stop.getMessage());
            assertTrue(stop.getMessage().startsWith("non-finite loss NaN, gradient norm NaN at iteration 4 (epoch 1) "
                    + "after 2 skipped steps"), stop.getMessage());
            System.out.println("BarrierSegmentGroupsTest: " + line + String.format(Locale.ROOT, "; EMA within "
                    + "%.2e, 4 folds for 5 iterations; 4 + 1 = 5 bit for bit; with the bound used up: %s", emaError,
                    stop.getMessage()));
        }
    }

    /**
     * The EMA under accumulation of 2 micro-batches (interval 2) folds once per optimiser step, before the forwards
     * of iterations 0, 2, 4: over 6 iterations on 2 tasks it equals one replica's {@link EmaContainer} of interval 2
     * within relative 1e-6 (3 folds; the final fold after 6 iterations, {@link BarrierSegment.Start#withFinalFold}, its
     * {@code update()}: 4), 3 + 3 = 6 bit for bit (the boundary inside a group), and after 3 iterations (inside a
     * group) the final fold is none, as the DistriOptimizer path's. The control, the fold before every micro-batch
     * (interval 1, what the segment did before it had an interval), lands far from it.
     */
    @Test
    void theEmaFoldsOncePerAccumulatedStep() {
        JavaSparkContext sc = SharedSpark.context();
        EpochDataSet<Integer> data = BarrierSegmentCheck.data(sc, KIND, 48, 2, -1, -1);
        BarrierSegment.Ema ema = new BarrierSegment.Ema(0.9, true, 2);
        Recipe recipe = new Recipe(null, INNER, ACCUMULATE_2, false, ema, false, CLIP);
        Reference reference = reference(data, 6, recipe);
        Reference three = reference(data, 3, recipe);
        try (Built built = segment(data, recipe)) {
            BarrierSegment segment = built.segment();
            BarrierSegment.Start start = built.start();
            BarrierSegment.Result whole = segment.run(start, 6);
            double[] errors = emaAgainst(whole, reference, ema, 3, 4);

            BarrierSegment.Result first = segment.run(start, 3);
            assertSameBits(whole, segment.run(first.next(), 3), "3 + 3 and 6 with accumulation and the EMA");
            assertEquals(2, first.emaUpdates());
            BarrierSegment.Start inside = first.next().withFinalFold(ema);
            assertTrue(Arrays.equals(first.ema(), inside.ema()) && inside.emaUpdates() == 2,
                    "a run ending inside a group took no step since its last fold");
            assertEquals(three.finalEmaUpdates(), inside.emaUpdates());
            double threeError = BarrierSegmentCheck.relative(inside.ema(), three.finalEma());
            assertTrue(threeError <= EMA_RELATIVE, "after 3 iterations the EMA is off by relative " + threeError);

            BarrierSegment.Result everyIteration = segment.ema(new BarrierSegment.Ema(0.9, true)).run(start, 6);
            assertEquals(6, everyIteration.emaUpdates());
            assertTrue(Arrays.equals(whole.weights(), everyIteration.weights()), "the EMA does not touch the weights");
            double control = BarrierSegmentCheck.relative(everyIteration.ema(), reference.ema());
            assertTrue(control > 100 * EMA_RELATIVE, "folding every micro-batch differs by only " + control);
            System.out.println("BarrierSegmentGroupsTest: " + String.format(Locale.ROOT, "EMA of interval 2 under "
                    + "accumulation of 2, 6 iterations: relative error against EmaContainer(interval 2) %.2e (3 "
                    + "folds), %.2e with the final fold (4), %.2e after 3 iterations (no final fold inside a group); "
                    + "weights %.2e; 3 + 3 = 6 bit for bit; folding every micro-batch (the control) %.2e away",
                    errors[1], errors[2], threeError, errors[0], control));
        }
    }

    /**
     * {@code training.non_finite: skip} inside an accumulation group with the EMA: a NaN pixel in task 1's sample of
     * iteration 3 (0-based 2, a group's first micro-batch) is left out of the sum, the group's step is dropped at
     * iteration 3, and the fold before iteration 4, which would take in the unchanged weights again, does not happen
     * (2 folds for 6 iterations; the final fold then happens: 3). Weights and EMA equal one replica's with
     * EmaContainer(interval 2) and NonFiniteGuard's verdicts; 3 + 3 (the boundary between the skipped micro-batch and
     * its group's dropped step) and 4 + 2 (the pending skipped fold carried) = 6 bit for bit.
     */
    @Test
    void aSkippedMicroBatchWithTheEmaEqualsOneReplica() {
        JavaSparkContext sc = SharedSpark.context();
        int slice = BATCH / 2;
        EpochDataSet<Integer> data = BarrierSegmentCheck.data(sc, KIND, 48, 2, 1, 2L * slice + 1);
        BarrierSegment.Ema ema = new BarrierSegment.Ema(0.9, true, 2);
        Recipe recipe = new Recipe(null, INNER, ACCUMULATE_2, false, ema, true, CLIP);
        Reference reference = reference(data, 6, recipe);
        assertEquals(List.of(2L), reference.skipped());
        try (Built built = segment(data, recipe)) {
            BarrierSegment segment = built.segment();
            BarrierSegment.Start start = built.start();
            BarrierSegment.Result whole = segment.run(start, 6);
            assertEquals(List.of(2L), whole.skipped());
            double[] errors = emaAgainst(whole, reference, ema, 2, 3); // the dropped step's weights not folded again

            BarrierSegment.Result first = segment.run(start, 3);
            assertEquals(List.of(2L), first.skippedHere());
            assertSameBits(whole, segment.run(first.next(), 3), "3 + 3 with a skipped micro-batch");
            BarrierSegment.Result four = segment.run(start, 4);
            assertTrue(four.emaSkipsNextFold(), "the dropped step's fold is pending");
            assertSameBits(whole, segment.run(four.next(), 2), "4 + 2 with a pending skipped fold");
            System.out.println("BarrierSegmentGroupsTest: " + String.format(Locale.ROOT, "a NaN micro-batch at "
                    + "iteration 3 under accumulation of 2 with the EMA: weights %.2e, EMA %.2e (2 folds), %.2e with "
                    + "the final fold, against one replica; 3 + 3 and 4 + 2 = 6 bit for bit", errors[0], errors[1],
                    errors[2]));
        }
    }

    /**
     * {@code whole}'s weights, EMA ({@code folds} folds) and EMA with the final fold ({@code finalFolds}) against one
     * replica's: their relative errors, each within its bound.
     */
    private static double[] emaAgainst(BarrierSegment.Result whole, Reference reference, BarrierSegment.Ema ema,
            long folds, long finalFolds) {
        double weightError = BarrierSegmentCheck.relative(whole.weights(), reference.weights());
        assertTrue(weightError <= BarrierSegmentCheck.RELATIVE, "weights off by relative " + weightError);
        assertEquals(folds, reference.emaUpdates());
        assertEquals(folds, whole.emaUpdates(), "EMA folds");
        double emaError = BarrierSegmentCheck.relative(whole.ema(), reference.ema());
        assertTrue(emaError <= EMA_RELATIVE, "EMA off by relative " + emaError);
        BarrierSegment.Start end = whole.next().withFinalFold(ema);
        assertEquals(finalFolds, reference.finalEmaUpdates());
        assertEquals(finalFolds, end.emaUpdates(), "EMA folds with the final one");
        double finalError = BarrierSegmentCheck.relative(end.ema(), reference.finalEma());
        assertTrue(finalError <= EMA_RELATIVE, "EMA with the final fold off by relative " + finalError);
        return new double[] {weightError, emaError, finalError};
    }

    /**
     * The final fold as the DistriOptimizer path's {@code ema.update()} when the last step was dropped: the pending
     * fold is consumed, the average and its count unchanged, as EmaContainer's.
     */
    @Test
    void theFinalFoldAfterADroppedStepIsConsumedAsEmaContainers() {
        BarrierSegment.Ema ema = new BarrierSegment.Ema(0.9, true, 2);
        float[] weights = {1, 2, 3};
        float[] average = {0.5f, 0.25f, 0.125f};
        BarrierSegment.Start dropped = new BarrierSegment.Start(6, weights, Map.of(), average, 3, true, List.of(5L));
        BarrierSegment.Start end = dropped.withFinalFold(ema);
        assertTrue(Arrays.equals(average, end.ema()) && end.emaUpdates() == 3 && !end.emaSkipsNextFold());
        BarrierSegment.Start clean = new BarrierSegment.Start(6, weights, Map.of(), average, 3, false, List.of());
        float[] folded = clean.withFinalFold(ema).ema();
        assertTrue(Arrays.equals(ema.folded(average, 3, weights), folded));
        assertFalse(Arrays.equals(average, folded));
        BarrierSegment.Start inside = new BarrierSegment.Start(7, weights, Map.of(), average, 4, false, List.of());
        assertTrue(inside.withFinalFold(ema) == inside, "inside a group: no fold");
        assertThrows(IllegalArgumentException.class, () -> new BarrierSegment.Ema(0.9, true, 0));
    }
}
