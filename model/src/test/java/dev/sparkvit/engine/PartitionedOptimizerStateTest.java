package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import dev.sparkvit.model.optim.AdamW;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PartitionedOptimizerStateTest {
    private static final int FLAT = 11;
    private static final Map<String, PartitionedOptimizerState.Slice> GROUPS = new LinkedHashMap<>(Map.of(
            "a", new PartitionedOptimizerState.Slice(0, 4), "b", new PartitionedOptimizerState.Slice(4, 7)));

    @Test
    void chunksMatchAllReduceParameter() {
        // 11 elements over 3 partitions: 4, 4, 3
        assertEquals(new PartitionedOptimizerState.Slice(0, 4), PartitionedOptimizerState.chunk(FLAT, 3, 0));
        assertEquals(new PartitionedOptimizerState.Slice(4, 4), PartitionedOptimizerState.chunk(FLAT, 3, 1));
        assertEquals(new PartitionedOptimizerState.Slice(8, 3), PartitionedOptimizerState.chunk(FLAT, 3, 2));
    }

    @Test
    void scatterThenGatherIsTheIdentityAcrossPartitionCounts() {
        float[] avgA = {1, 2, 3, 4};
        float[] sqA = {5, 6, 7, 8};
        float[] avgB = {10, 11, 12, 13, 14, 15, 16};
        float[] sqB = {20, 21, 22, 23, 24, 25, 26};
        Map<String, PartitionedOptimizerState.GroupState> global = Map.of(
                "a", new PartitionedOptimizerState.GroupState(7, Map.of("exp_avg", avgA, "exp_avg_sq", sqA)),
                "b", new PartitionedOptimizerState.GroupState(7, Map.of("exp_avg", avgB, "exp_avg_sq", sqB)));
        for (int partitions : new int[] {1, 2, 3, 5}) {
            List<Map<String, OptimMethod<Float>>> methods = PartitionedOptimizerState.scatter(global, GROUPS, FLAT,
                    partitions, g -> AdamW.of(i -> 0.1, 0));
            assertEquals(partitions, methods.size());
            Map<String, PartitionedOptimizerState.GroupState> back = PartitionedOptimizerState.gather(methods, GROUPS,
                    FLAT);
            assertEquals(7, back.get("a").step());
            assertArrayEquals(avgA, back.get("a").buffers().get("exp_avg"), partitions + " partitions");
            assertArrayEquals(sqB, back.get("b").buffers().get("exp_avg_sq"), partitions + " partitions");
        }
        // with 3 partitions, partition 1 holds group b's first four elements
        AdamW middle = (AdamW) PartitionedOptimizerState.scatter(global, GROUPS, FLAT, 3,
                g -> AdamW.of(i -> 0.1, 0)).get(1).get("b");
        assertArrayEquals(new float[] {10, 11, 12, 13}, middle.buffers().get("exp_avg"));
    }
}
