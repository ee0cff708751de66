package dev.sparkvit.testing;

import dev.sparkvit.engine.EpochDataSet;
import dev.sparkvit.engine.Samples;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Deterministic training data: random images whose pixels depend on (id, epoch) only, in a seeded order. */
public final class RandomImages {
    private RandomImages() {
    }

    /**
     * {@code count} images (3, size, size) with labels 1..classes, rebuilt per epoch, in a seeded order, in
     * {@code partitions} partitions (a barrier segment runs one task per partition).
     */
    public static EpochDataSet<Integer> epochDataSet(int count, int size, int classes, long seed, int partitions) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ids.add(i);
        }
        return new EpochDataSet<>(SharedSpark.context().parallelize(ids, 2), partitions,
                (epoch, id) -> Samples.labelled(TestTensors.randn(new Random(id * 31L + epoch), 1.0, 3, size, size),
                        1 + id % classes), seed);
    }
}
