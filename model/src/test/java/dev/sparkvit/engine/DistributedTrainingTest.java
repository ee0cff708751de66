package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.nn.Sequential;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.model.layers.TokenPooling;
import dev.sparkvit.model.optim.AdamW;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.testing.InjectedFault;
import dev.sparkvit.testing.RandomImages;
import dev.sparkvit.testing.SharedSpark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * What only {@link DistributedTraining} (DLlib's DistriOptimizer path) does, and goes with it: its TensorBoard folder
 * check, its replica-count check, its refusal of non-finite starting weights before DLlib's set-up, the release of
 * the caches DistriOptimizer leaves behind, and the engine fact of DLlib's default fp16 compression. What training
 * guarantees on the barrier engine is proven by the barrier tests (BarrierSegmentSmokeTest, SegmentedTrainingTest,
 * NonFiniteTrainingTest, EmaContainerTest, ...).
 */
@ExtendWith(SharedSpark.class)
class DistributedTrainingTest {

    @Test
    void refusesASummaryFolderThatAlreadyHoldsARun(@TempDir Path logs) throws java.io.IOException {
        java.nio.file.Path train = logs.resolve("run").resolve("train");
        java.nio.file.Files.createDirectories(train);
        java.nio.file.Files.write(train.resolve("events.out.tfevents.1.host"), new byte[0]);
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> DistributedTraining.of(BarrierSegmentSmokeTest.mlp(), BarrierSegmentSmokeTest.blobs(16, 1),
                        Criteria.classNll(), 2).summary(logs, "run"));
        assertTrue(error.getMessage().contains("already holds a run"), error.getMessage());
    }

    @Test
    void rejectsBatchSizeNotMultipleOfReplicas() {
        DistributedTraining training = DistributedTraining.of(BarrierSegmentSmokeTest.mlp(),
                BarrierSegmentSmokeTest.blobs(16, 1), Criteria.classNll(), 3);
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, training::optimize);
        assertTrue(error.getMessage().contains("batch size 3"), error.getMessage());
        assertTrue(error.getMessage().contains("2 model replicas"), error.getMessage());
    }

    /**
     * Training refuses to start from NaN weights with a message saying so; without the check DLlib's set-up fails on
     * them with "All subModules should have an OptimMethod" (it compares weight tensors by value, and NaN != NaN).
     */
    @Test
    void nonFiniteStartingWeightsAreRefusedBeforeAnyWork() {
        Sequential<Float> model = SegmentedTrainingTest.model();
        Tensor<Float> weight = ModuleParameters.weights(model).get(2);
        model.getParameters();
        weight.setValue(1, 2, Float.NaN);
        DistributedTraining training = DistributedTraining.of(model,
                SegmentedTrainingTest.data(BigDlEngine.nodeNumber()), Criteria.classNll(), 16);
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> training.trainUntil(4));
        assertTrue(refused.getMessage().startsWith("the model's weights hold 1 NaN or infinite values before "
                + "training (the first, NaN, at element " + (weight.storageOffset() - 1 + 1) + " of the flat "
                + "parameter buffer)"), refused.getMessage());
    }

    /**
     * No segment leaves DistriOptimizer's model replicas cached, nor its parameter blocks (each segment's
     * AllReduceParameter puts new ones, locked, never removed); a stopped training releases its replicas and cannot
     * go on.
     */
    @Test
    void segmentsReleaseWhatDistriOptimizerLeavesBehind() {
        ParameterBlocks.releaseHere(); // what earlier tests' failed trainings left in this JVM
        DistributedTraining training = DistributedTraining.of(SegmentedTrainingTest.model(),
                SegmentedTrainingTest.data(BigDlEngine.nodeNumber()), Criteria.classNll(), 16)
                .optimMethod(AdamW.of(i -> 0.01, 0.0));
        training.trainUntil(3);
        training.trainUntil(6);
        assertEquals(0, replicaCaches(), "cached model replicas left behind by segments");
        long parameterBlocks = org.apache.spark.SparkEnv.get().blockManager().getMatchingBlockIds(
                (scala.Function1<org.apache.spark.storage.BlockId, Object>) id -> ParameterBlocks.NAME.matcher(
                        id.name()).matches()).size();
        assertEquals(0, parameterBlocks, "AllReduceParameter blocks left behind by segments");

        DistributedTraining stopped = DistributedTraining.of(new InjectedFault(SegmentedTrainingTest.model(),
                InjectedFault.Kind.NAN_INPUT, 2), SegmentedTrainingTest.data(BigDlEngine.nodeNumber()),
                Criteria.classNll(), 16).optimMethod(AdamW.of(i -> 0.01, 0.0)).nonFinite(NonFinitePolicy.stop());
        assertThrows(NonFiniteTrainingException.class, () -> stopped.trainUntil(4));
        assertThrows(IllegalStateException.class, () -> stopped.trainUntil(4), "a stopped training cannot go on");
        assertEquals(0, replicaCaches(), "the stopped segment's replicas are released");
    }

    private static long replicaCaches() {
        return scala.collection.JavaConverters.mapAsJavaMap(SharedSpark.context().sc().getPersistentRDDs()).values()
                .stream().filter(r -> "Thread Model RDD".equals(r.name())).count();
    }

    /**
     * Engine fact (docs/ENGINE.md): with DLlib's default "fp16" compression DistriOptimizer's replicas compute on
     * weights truncated to 16 bits, so the EMA they keep is off the float32 closed form by about 1e-3. If this starts
     * failing, DLlib changed how it ships weights.
     */
    @Test
    void dllibDefaultCompressionShowsReplicasTruncatedWeights() {
        VitConfig config = new VitConfig(8, 4, 3, 16, 2, 2, 2.0, 0.0, true, 0.1, TokenPooling.Mode.CLASS_TOKEN);
        float decay = 0.6f;
        int iterations = 4;
        List<float[]> live = new ArrayList<>();
        float[] ema = null;
        for (int k = 0; k <= iterations; k++) {
            VisionTransformer vit = VisionTransformer.classifier(config, 3, 21);
            EmaContainer average = new EmaContainer(vit.module(), decay, false);
            if (k > 0) {
                DistributedTraining.of(average, RandomImages.epochDataSet(32, 8, 3, 3, BigDlEngine.nodeNumber()),
                        Criteria.crossEntropy(), 8)
                        .optimMethod(OptimMethods.sgd(0.1, 0.0))
                        .compression("fp16")
                        .endWhen(Triggers.maxIteration(k))
                        .optimize();
            }
            average.update(); // fold in the final weights on the driver
            live.add(Tensors.toArray(vit.module().getParameters()._1()));
            if (k == iterations) {
                assertEquals(iterations + 1, average.updateCount());
                List<float[]> averaged = new ArrayList<>();
                average.averagedWeights().forEach(t -> averaged.add(Tensors.toArray(t)));
                ema = new float[live.get(k).length];
                int at = 0;
                for (float[] values : averaged) {
                    System.arraycopy(values, 0, ema, at, values.length);
                    at += values.length;
                }
            }
        }
        double error = EmaContainerTest.closedFormError(live, decay, ema)[0];
        assertTrue(error > 1e-4, "expected truncation error, got " + error);
    }
}
