package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.nn.Linear;
import com.intel.analytics.bigdl.dllib.nn.Sequential;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import dev.sparkvit.model.optim.AdamW;
import dev.sparkvit.model.optim.SgdMomentum;
import dev.sparkvit.model.optim.WarmupCosine;
import dev.sparkvit.testing.SharedSpark;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Training in segments, and resuming from gathered state, reproduces an uninterrupted run bit for bit: per-group AdamW
 * and SGD moments, iteration, epoch and data position, with decoupled weight decay and gradient clipping on.
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

    static EpochDataSet<Integer> data() {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < SAMPLES; i++) {
            ids.add(i);
        }
        return new EpochDataSet<>(SharedSpark.context().parallelize(ids, 2), BigDlEngine.nodeNumber(), (epoch, id) -> {
            Random random = new Random(id * 1009L + epoch);
            float[] x = new float[FEATURES];
            for (int j = 0; j < FEATURES; j++) {
                x[j] = (float) (random.nextGaussian() * 0.7 + (id % 2 == 0 ? 1 : -1) * (j % 3 - 1));
            }
            return Samples.labelled(Tensors.of(x, FEATURES), 1 + id % 2);
        }, 7);
    }

    private static OptimMethod<Float> method(String group) {
        return group.equals("fc1") ? AdamW.of(new WarmupCosine(0.05, 2, TOTAL, 0.0), 0.0)
                : new SgdMomentum(new WarmupCosine(0.1, 2, TOTAL, 0.0), 0.9, false);
    }

    private static DistributedTraining training(Sequential<Float> model) {
        Map<String, OptimMethod<Float>> methods = new LinkedHashMap<>();
        methods.put("fc1", method("fc1"));
        methods.put("fc2", method("fc2"));
        model.getParameters();
        List<DecoupledWeightDecay.Range> decayed = List.of(
                DecoupledWeightDecay.rangeOf(ModuleParameters.weights(model).get(0), i -> 0.05),
                DecoupledWeightDecay.rangeOf(ModuleParameters.weights(model).get(2), i -> 0.1));
        return DistributedTraining.of(model, data(), Criteria.classNll(), BATCH)
                .optimMethods(methods)
                .clipGradientNorm(0.5)
                .parameterProcessor(new DecoupledWeightDecay(0.1, decayed));
    }

    private static Map<String, AbstractModule<?, ?, Float>> groups(Sequential<Float> model) {
        Map<String, AbstractModule<?, ?, Float>> groups = new LinkedHashMap<>();
        for (String name : List.of("fc1", "fc2")) {
            groups.put(name, model.apply(name).get());
        }
        return groups;
    }

    private static float[][] segmented(long... stops) {
        Sequential<Float> model = model();
        DistributedTraining training = training(model);
        for (long stop : stops) {
            training.trainUntil(stop);
        }
        assertEquals(new DistributedTraining.Progress(TOTAL, 2, 2 * BATCH), training.progress());
        return ModuleParameters.snapshot(model);
    }

    @Test
    void segmentsAtAnyIterationGiveTheUninterruptedWeights() {
        ParameterBlocks.releaseHere(); // what earlier tests' failed trainings left in this JVM
        float[][] before = ModuleParameters.snapshot(model());
        float[][] once = segmented(TOTAL);
        for (int i = 0; i < once.length; i++) {
            assertTrue(DistributedTrainingTest.maxAbsDifference(before[i], once[i]) > 1e-3f, "tensor " + i);
        }
        // 3: mid-epoch; 4: exactly at the end of the first epoch; 9: one before the end
        float[][] pieces = segmented(3, 4, 9, TOTAL);
        for (int i = 0; i < once.length; i++) {
            assertArrayEquals(once[i], pieces[i], "tensor " + i + " differs after segmented training");
        }
        // no segment leaves its model replicas cached (DLlib does, with reserveOptim)
        long replicaCaches = scala.collection.JavaConverters.mapAsJavaMap(SharedSpark.context().sc()
                .getPersistentRDDs()).values().stream().filter(r -> "Thread Model RDD".equals(r.name())).count();
        assertEquals(0, replicaCaches, "cached model replicas left behind by segments");
        // nor DLlib's parameter blocks (each segment's AllReduceParameter puts new ones, locked, never removed)
        long parameterBlocks = org.apache.spark.SparkEnv.get().blockManager().getMatchingBlockIds(
                (scala.Function1<org.apache.spark.storage.BlockId, Object>) id -> ParameterBlocks.NAME.matcher(
                        id.name()).matches()).size();
        assertEquals(0, parameterBlocks, "AllReduceParameter blocks left behind by segments");
    }

    @Test
    void resumingFromGatheredStateGivesTheUninterruptedWeights() {
        float[][] once = segmented(TOTAL);
        for (long stop : new long[] {4, 6}) {
            Sequential<Float> first = model();
            DistributedTraining interrupted = training(first);
            interrupted.trainUntil(stop);
            DistributedTraining.Progress progress = interrupted.progress();
            int flat = first.getParameters()._1().nElement();
            Map<String, PartitionedOptimizerState.Slice> slices = PartitionedOptimizerState.slices(first, groups(first));
            Map<String, PartitionedOptimizerState.GroupState> states =
                    PartitionedOptimizerState.gather(interrupted.partitionMethods(), slices, flat);
            float[][] weights = ModuleParameters.snapshot(first);

            Sequential<Float> second = model();
            List<com.intel.analytics.bigdl.dllib.tensor.Tensor<Float>> target = ModuleParameters.weights(second);
            for (int i = 0; i < weights.length; i++) {
                target.get(i).copy(Tensors.of(weights[i], Tensors.shape(target.get(i))));
            }
            DistributedTraining resumed = training(second).resume(progress, PartitionedOptimizerState.scatter(states,
                    slices, flat, BigDlEngine.nodeNumber(), SegmentedTrainingTest::method));
            resumed.trainUntil(TOTAL);
            float[][] end = ModuleParameters.snapshot(second);
            for (int i = 0; i < once.length; i++) {
                assertArrayEquals(once[i], end[i], "tensor " + i + " differs after resuming at iteration " + stop);
            }
        }
    }

    @Test
    void clippingBoundsTheStepByTheGlobalNorm() {
        Sequential<Float> model = model();
        float[][] before = ModuleParameters.snapshot(model);
        double clip = 1e-3;
        DistributedTraining.of(model, data(), Criteria.classNll(), BATCH)
                .optimMethod(new SgdMomentum(i -> 1.0, 0.0, false))
                .clipGradientNorm(clip)
                .endWhen(Triggers.maxIteration(1))
                .optimize();
        float[][] after = ModuleParameters.snapshot(model);
        double squares = 0;
        for (int i = 0; i < after.length; i++) {
            for (int j = 0; j < after[i].length; j++) {
                double step = after[i][j] - before[i][j];
                squares += step * step;
            }
        }
        // with rate 1 and no momentum the step is the clipped gradient itself
        assertEquals(clip, Math.sqrt(squares), clip * 1e-3);
    }
}
