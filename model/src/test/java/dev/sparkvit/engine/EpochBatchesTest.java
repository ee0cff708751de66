package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.intel.analytics.bigdl.dllib.feature.dataset.MiniBatch;
import com.intel.analytics.bigdl.dllib.nn.Sequential;
import dev.sparkvit.model.optim.AdamW;
import dev.sparkvit.testing.BarrierRuns;
import dev.sparkvit.testing.SharedSpark;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.util.LongAccumulator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * DLlib's dataset API counts the training set through the batches ({@code data(false)}); sparkvit's epoch batches
 * answer that count from the cached elements, so training builds exactly the samples it trains on (under
 * DistriOptimizer a count once per {@code optimize()} used to cost one more pass over the whole dataset, augmentation
 * and all, per segment): the barrier segments build exactly their iterations' samples.
 */
@ExtendWith(SharedSpark.class)
class EpochBatchesTest {
    private static final int SAMPLES = 40;
    private static final int FEATURES = 6;

    private static EpochDataSet<Integer> counted(LongAccumulator built) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < SAMPLES; i++) {
            ids.add(i);
        }
        return new EpochDataSet<>(SharedSpark.context().parallelize(ids, 2), SharedSpark.CORES, (epoch, id) -> {
            built.add(1);
            float[] x = new float[FEATURES];
            x[id % FEATURES] = id % 2 == 0 ? 1f : -1f;
            return Samples.labelled(Tensors.of(x, FEATURES), 1 + id % 2);
        }, 3);
    }

    @Test
    void countingBuildsNoSample() {
        LongAccumulator built = SharedSpark.context().sc().longAccumulator("samples built");
        EpochBatches batches = new EpochBatches(counted(built), 8, SharedSpark.CORES);
        int records = batches.data(false).toJavaRDD().map(MiniBatch::size).reduce(Integer::sum);
        assertEquals(SAMPLES, records);
        assertEquals(0, built.value());
        assertEquals(SAMPLES, batches.size());
        MiniBatch<Float> count = batches.data(false).toJavaRDD().first();
        assertThrows(UnsupportedOperationException.class, count::getInput);
    }

    @Test
    void trainingBuildsOnlyTheSamplesItTrainsOn() {
        LongAccumulator built = SharedSpark.context().sc().longAccumulator("samples built");
        int batch = 8;
        long iterations = 7; // crosses an epoch end (5 iterations per epoch) in three segments: 3, 2, 2
        Sequential<Float> model = SegmentedTrainingTest.model();
        AdamW adamW = AdamW.of(i -> 0.01, 0.0);
        try (BarrierSegment segment = new BarrierSegment(BarrierRuns.module(model), counted(built), batch,
                BarrierRuns.classNll(), adamW)) {
            assertEquals(5, segment.iterationsPerEpoch());
            assertEquals(iterations, BarrierRuns.stops(segment, BarrierSegment.Start.of(model, adamW, 0), 3,
                    iterations).next().iteration());
        }
        assertEquals(iterations * batch, built.value());
    }
}
