package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.feature.dataset.Sample;
import com.intel.analytics.bigdl.dllib.nn.Sequential;
import dev.sparkvit.testing.SharedSpark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.spark.rdd.RDD;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Engine smoke test: DLlib's DistriOptimizer trains a tiny network on an RDD in local[2]. */
@ExtendWith(SharedSpark.class)
class DistributedTrainingTest {
    private static final int FEATURES = 8;

    /** Two Gaussian blobs, linearly separable with margin; label 1 or 2 (DLlib labels are 1-based). */
    static RDD<Sample<Float>> blobs(int count, long seed) {
        Random random = new Random(seed);
        List<Sample<Float>> samples = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int label = i % 2;
            float[] x = new float[FEATURES];
            for (int j = 0; j < FEATURES; j++) {
                x[j] = (float) (random.nextGaussian() * 0.5 + (label == 0 ? -1.0 : 1.0) * (j % 2 == 0 ? 1 : -1));
            }
            samples.add(Samples.labelled(Tensors.of(x, FEATURES), label + 1));
        }
        return SharedSpark.context().parallelize(samples, SharedSpark.CORES).rdd();
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
    void lossFallsAndEveryParameterChanges(@TempDir Path logs) {
        Sequential<Float> model = mlp();
        float[][] before = ModuleParameters.snapshot(model);

        DistributedTraining training = DistributedTraining.of(model, blobs(256, 7), Criteria.classNll(), 32)
                .optimMethod(OptimMethods.sgd(0.2, 0.9))
                .endWhen(Triggers.maxIteration(24))
                .summary(logs, "smoke");
        training.optimize();
        float[] losses = training.lossHistory();
        training.close();

        assertEquals(24, losses.length, "one logged loss per iteration");
        float first = mean(Arrays.copyOfRange(losses, 0, 4));
        float last = mean(Arrays.copyOfRange(losses, losses.length - 4, losses.length));
        assertTrue(last < 0.5f * first, "loss should fall by more than half: first " + first + ", last " + last
                + ", all " + Arrays.toString(losses));

        float[][] after = ModuleParameters.snapshot(model);
        assertEquals(4, after.length, "two Linear layers, weight and bias each");
        for (int i = 0; i < after.length; i++) {
            assertTrue(maxAbsDifference(before[i], after[i]) > 1e-4f,
                    "parameter tensor " + i + " did not change under DistriOptimizer");
        }
    }

    @Test
    void refusesASummaryFolderThatAlreadyHoldsARun(@TempDir Path logs) throws java.io.IOException {
        java.nio.file.Path train = logs.resolve("run").resolve("train");
        java.nio.file.Files.createDirectories(train);
        java.nio.file.Files.write(train.resolve("events.out.tfevents.1.host"), new byte[0]);
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> DistributedTraining.of(mlp(), blobs(16, 1), Criteria.classNll(), 2).summary(logs, "run"));
        assertTrue(error.getMessage().contains("already holds a run"), error.getMessage());
    }

    @Test
    void rejectsBatchSizeNotMultipleOfReplicas() {
        DistributedTraining training = DistributedTraining.of(mlp(), blobs(16, 1), Criteria.classNll(), 3);
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, training::optimize);
        assertTrue(error.getMessage().contains("batch size 3"), error.getMessage());
        assertTrue(error.getMessage().contains("2 model replicas"), error.getMessage());
    }

    static float mean(float[] values) {
        float sum = 0;
        for (float v : values) {
            sum += v;
        }
        return sum / values.length;
    }

    static float maxAbsDifference(float[] a, float[] b) {
        float max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }
}
