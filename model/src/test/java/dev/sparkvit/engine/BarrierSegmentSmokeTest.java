package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.nn.Sequential;
import dev.sparkvit.model.optim.SgdMomentum;
import dev.sparkvit.testing.BarrierRuns;
import dev.sparkvit.testing.SharedSpark;
import dev.sparkvit.testing.TestTensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Engine smoke test: barrier segments train a tiny network on local[2] (2 tasks). */
@ExtendWith(SharedSpark.class)
class BarrierSegmentSmokeTest {
    private static final int FEATURES = 8;

    /**
     * Two Gaussian blobs, linearly separable with margin, in 2 partitions; label 1 or 2 (DLlib labels are 1-based);
     * each sample drawn from its own seed, the same in every epoch.
     */
    static EpochDataSet<Integer> blobs(int count, long seed) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ids.add(i);
        }
        return new EpochDataSet<>(SharedSpark.context().parallelize(ids, 2), SharedSpark.CORES, (epoch, id) -> {
            Random random = new Random(seed * 100_003L + id);
            int label = id % 2;
            float[] x = new float[FEATURES];
            for (int j = 0; j < FEATURES; j++) {
                x[j] = (float) (random.nextGaussian() * 0.5 + (label == 0 ? -1.0 : 1.0) * (j % 2 == 0 ? 1 : -1));
            }
            return Samples.labelled(Tensors.of(x, FEATURES), label + 1);
        }, seed);
    }

    static Sequential<Float> mlp() {
        Seeds.seedWeightInit(Seeds.DEFAULT);
        Sequential<Float> model = Layers.sequential();
        model.add(Layers.linear(FEATURES, 16));
        model.add(Layers.tanh());
        model.add(Layers.linear(16, 2));
        model.add(Layers.logSoftMax());
        return model;
    }

    @Test
    void lossFallsAndEveryParameterChanges() {
        Sequential<Float> model = mlp();
        float[][] before = ModuleParameters.snapshot(model);
        SgdMomentum sgd = new SgdMomentum(i -> 0.2, 0.9, false);
        double[] losses = new double[24];
        BarrierSegment.Result last = null;
        try (BarrierSegment segment = new BarrierSegment(BarrierRuns.module(model), blobs(256, 7), 32,
                BarrierRuns.classNll(), sgd)) {
            assertEquals(8, segment.iterationsPerEpoch());
            BarrierSegment.Start at = BarrierSegment.Start.of(model, sgd, 0);
            for (int epoch = 0; epoch < 3; epoch++) { // one segment per epoch
                last = segment.run(at, 8);
                System.arraycopy(last.losses(), 0, losses, epoch * 8, 8);
                at = last.next();
            }
        }
        assertEquals(SharedSpark.CORES, last.tasks());
        double first = Arrays.stream(losses, 0, 4).average().orElseThrow();
        double end = Arrays.stream(losses, losses.length - 4, losses.length).average().orElseThrow();
        assertTrue(end < 0.5 * first, "loss should fall by more than half: first " + first + ", last " + end
                + ", all " + Arrays.toString(losses));

        List<float[]> after = BarrierRuns.tensors(model, last.weights());
        assertEquals(4, after.size(), "two Linear layers, weight and bias each");
        for (int i = 0; i < after.size(); i++) {
            assertTrue(TestTensors.maxAbsDiff(before[i], after.get(i)) > 1e-4,
                    "parameter tensor " + i + " did not change on the barrier engine");
        }
    }

    @Test
    void rejectsAGlobalBatchNotAMultipleOfTheTasks() {
        Sequential<Float> model = mlp();
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> new BarrierSegment(
                BarrierRuns.module(model), blobs(16, 1), 3, BarrierRuns.classNll(),
                new SgdMomentum(i -> 0.1, 0, false)));
        assertEquals("the global batch 3 must be a multiple of the 2 data partitions (one barrier task each)",
                error.getMessage());
    }
}
