package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import dev.sparkvit.model.optim.AdamW;
import dev.sparkvit.testing.SharedSpark;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A segment's state (weights, AdamW's two moments, the EMA: 4P floats) comes back to the driver without any task
 * result growing with the model: every task's serialised result ({@code taskMetrics().resultSize()}, what Spark ships
 * and counts against {@code spark.driver.maxResultSize}) stays within 4P / T floats and a few kilobytes, for a segment
 * from iteration 0 and for one whose start carries the moments and the EMA; and no block of the segment is left in
 * the BlockManager. (Task 0 used to return all 4P floats: a 1.4 GB result for ViT-B, which ran its executor out of
 * heap; docs/ENGINE.md "Memory per executor".) That the state read back is the exact one: BarrierSegmentTest (3 + 2
 * iterations equal 5 bit for bit, the EMA and the moments included).
 */
@ExtendWith(SharedSpark.class)
class BarrierSegmentStateTest {
    /** What a task result may hold besides the state: hashes, shapes, losses, norms and times of a few iterations. */
    private static final long SMALL = 32 * 1024;

    @Test
    void noTaskResultGrowsWithTheModel() throws Exception {
        SparkContext sc = SharedSpark.context().sc();
        BarrierSegmentCheck.Kind kind = BarrierSegmentCheck.Kind.CROSS_ENTROPY;
        int tasks = 2;
        EpochDataSet<Integer> data = BarrierSegmentCheck.data(SharedSpark.context(), kind, 41, tasks, -1, -1);
        AbstractModule<Activity, Activity, Float> model = BarrierSegmentCheck.model(kind);
        long parameters = model.getParameters()._1().nElement();
        long bound = 4 * parameters / tasks * Float.BYTES + SMALL;
        // the bound separates a task's share from the whole state by far (else the test proves nothing)
        assertTrue(4 * parameters * Float.BYTES > bound * 3 / 2, parameters + " parameters are too few for the bound");
        AdamW method = AdamW.of(i -> 1e-3, 0.05);
        List<Long> sizes = new CopyOnWriteArrayList<>();
        SparkListener listener = new SparkListener() {
            @Override
            public void onTaskEnd(SparkListenerTaskEnd end) {
                if (end.taskMetrics() != null) {
                    sizes.add(end.taskMetrics().resultSize());
                }
            }
        };
        try (BarrierSegment segment = new BarrierSegment(model, data, 8, BarrierSegmentCheck.loss(kind), method)
                .ema(new BarrierSegment.Ema(0.9, true))) {
            sc.addSparkListener(listener);
            BarrierSegment.Result first;
            BarrierSegment.Result second;
            try {
                first = segment.run(BarrierSegment.Start.of(model, method, 0), 2);
                second = segment.run(first.next(), 2);
                sc.listenerBus().waitUntilEmpty();
            } finally {
                sc.removeSparkListener(listener);
            }
            assertEquals(2, first.optimizer().get(BarrierSegment.WHOLE).buffers().size(), "AdamW's two moments");
            assertEquals(4, second.emaUpdates());
            assertEquals(parameters, second.ema().length);
            assertEquals(parameters, second.optimizer().get(BarrierSegment.WHOLE).buffers().get("exp_avg").length);
        }
        long largest = sizes.stream().mapToLong(Long::longValue).max().orElse(-1);
        System.out.println("BarrierSegmentStateTest: " + parameters + " parameters (4P floats = " + 16 * parameters
                + " bytes) on " + tasks + " tasks: largest task result " + largest + " bytes of " + sizes.size()
                + " tasks (bound 4P / T floats + " + SMALL + " = " + bound + ")");
        assertTrue(sizes.size() >= 2 * tasks, "task ends seen: " + sizes);
        assertTrue(largest <= bound, "a task result of " + largest + " bytes, more than 4P / T floats and "
                + SMALL + " bytes (" + bound + "): " + sizes);
        assertEquals(List.of(), FloatBlocks.stored(), "blocks left in the driver's BlockManager");
    }
}
