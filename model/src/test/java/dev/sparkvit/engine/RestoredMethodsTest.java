package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import dev.sparkvit.model.optim.AdamW;
import dev.sparkvit.testing.SharedSpark;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.Partition;
import org.apache.spark.rdd.RDD;
import org.apache.spark.serializer.JavaSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import scala.reflect.ClassTag$;

/**
 * The optimisation methods of a resumed run reach the executors once, not inside every task: the partition objects of
 * their RDD (which DistriOptimizer zips into every job's models) stay small whatever the methods hold. A
 * {@code parallelize}d list, as before, carried each partition's moments in its partition object: 1.6 MB per task of
 * every iteration for a 139k-parameter model.
 */
@ExtendWith(SharedSpark.class)
class RestoredMethodsTest {
    private static final int ELEMENTS = 200_000; // 1.6 MB of AdamW moments per partition

    private static Map<String, OptimMethod<Float>> methods(float value) {
        AdamW adam = AdamW.of(i -> 1e-3, 0.0);
        float[] m = new float[ELEMENTS];
        float[] v = new float[ELEMENTS];
        java.util.Arrays.fill(m, value);
        java.util.Arrays.fill(v, value * value);
        Map<String, float[]> buffers = new LinkedHashMap<>();
        buffers.put("exp_avg", m);
        buffers.put("exp_avg_sq", v);
        adam.restore(7, buffers);
        Map<String, OptimMethod<Float>> methods = new LinkedHashMap<>();
        methods.put("group", adam);
        return methods;
    }

    private static int serializedSize(Partition partition) {
        SerializerInstance serializer = new JavaSerializer(SharedSpark.context().getConf()).newInstance();
        ByteBuffer bytes = serializer.serialize(partition, ClassTag$.MODULE$.apply(Partition.class));
        return bytes.remaining();
    }

    @Test
    void partitionsCarryNoMethodsAndEachHoldsItsOwn() {
        RDD<Integer> origin = SharedSpark.context().parallelize(List.of(1, 2, 3, 4), 2).rdd();
        List<Map<String, OptimMethod<Float>>> given = List.of(methods(0.25f), methods(0.5f));
        RestoredMethods.Cached cached = RestoredMethods.of(origin, given);
        try {
            for (Partition partition : cached.rdd().partitions()) {
                int size = serializedSize(partition);
                assertTrue(size < 8_000, "partition " + partition.index() + " serializes to " + size + " bytes");
            }
            List<scala.collection.immutable.Map<String, OptimMethod<Float>>> read = new ArrayList<>(
                    cached.rdd().toJavaRDD().collect());
            assertEquals(2, read.size());
            for (int p = 0; p < 2; p++) {
                AdamW restored = (AdamW) read.get(p).apply("group");
                assertEquals(7, restored.step());
                float[] expected = new float[ELEMENTS];
                java.util.Arrays.fill(expected, p == 0 ? 0.25f : 0.5f);
                assertArrayEquals(expected, restored.buffers().get("exp_avg"), "partition " + p);
            }
        } finally {
            cached.rdd().unpersist(true);
            cached.source().destroy();
        }
    }

    @Test
    void theMethodsMustMatchThePartitions() {
        RDD<Integer> origin = SharedSpark.context().parallelize(List.of(1, 2, 3), 3).rdd();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RestoredMethods.of(origin, List.of(methods(1f))));
        assertTrue(e.getMessage().contains("got 1 for 3 partitions"), e.getMessage());
    }
}
