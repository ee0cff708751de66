package dev.sparkvit.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.config.ConfigException;
import dev.sparkvit.jobs.train.BarrierPreflight.Layout;
import dev.sparkvit.testing.SharedSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Barrier mode's constraints refused before training, one line each naming the key and value: dynamic allocation,
 * {@code spark.task.cpus} leaving fewer slots than tasks, fewer free slots than tasks, a batch (or micro-batch) not
 * divisible by the tasks; a layout that fits passes; and the layout is read from the running context.
 */
@ExtendWith(SharedSpark.class)
class BarrierPreflightTest {
    /** 2 executors x 2 cores: 4 tasks, all registered, spark.task.cpus 1, no dynamic allocation. */
    private static final Layout FITS = new Layout(2, 2, 4, 1, false);

    private static String refused(int batch, Layout layout) {
        ConfigException e = assertThrows(ConfigException.class, () -> BarrierPreflight.require("run.yaml", batch,
                layout));
        String message = e.getMessage();
        assertTrue(message.startsWith("run.yaml: ") && !message.contains("\n"), message);
        return message;
    }

    @Test
    void aLayoutThatFitsPasses() {
        BarrierPreflight.require("run.yaml", 64, FITS);
        BarrierPreflight.require("run.yaml", 4, FITS);
        // more cores registered than tasks need (another application's executors are not counted by the engine)
        BarrierPreflight.require("run.yaml", 8, new Layout(1, 2, 6, 1, false));
    }

    @Test
    void dynamicAllocationIsRefused() {
        String message = refused(64, new Layout(2, 2, 4, 1, true));
        assertEquals("run.yaml: training cannot run with spark.dynamicAllocation.enabled = true (a "
                + "barrier stage needs a fixed set of executors with a slot for every task at once; set it to false)",
                message);
    }

    @Test
    void aTaskCpusThatLeavesFewerSlotsIsRefused() {
        String message = refused(64, new Layout(2, 2, 4, 2, false));
        assertEquals("run.yaml: training cannot run with spark.task.cpus = 2: it leaves 2 task "
                + "slot(s) (2 executor(s) x 2 core(s) / 2) for the 4 barrier tasks, one per core (set spark.task.cpus "
                + "to 1)", message);
        // executors of 3 cores with 2 cpus a task: 1 slot each
        assertTrue(refused(12, new Layout(2, 3, 6, 2, false)).contains("spark.task.cpus = 2: it leaves 2 task "
                + "slot(s)"));
    }

    @Test
    void fewerFreeSlotsThanTasksIsRefused() {
        String message = refused(64, new Layout(2, 2, 3, 1, false));
        assertEquals("run.yaml: training cannot run 4 tasks (2 executor(s) x 2 core(s)) on 3 free task "
                + "slots (a barrier stage needs a slot for every task at once)", message);
    }

    @Test
    void aBatchNotDivisibleByTheTasksIsRefused() {
        String message = refused(66, FITS);
        assertEquals("run.yaml: training.batch_size = 66 is not a multiple of the 4 barrier tasks (2 executor(s) x 2 "
                + "core(s)), each of which takes an equal slice of the global batch", message);
        assertTrue(refused(1, FITS).contains("training.batch_size = 1 "));
    }

    /** Under gradient accumulation an iteration is a micro-batch: that is what the tasks must divide. */
    @Test
    void aMicroBatchNotDivisibleByTheTasksIsRefused() {
        ConfigException e = assertThrows(ConfigException.class, () -> BarrierPreflight.require("run.yaml", 24, 4,
                FITS));
        assertEquals("run.yaml: training.batch_size = 24 / training.gradient_accumulation_steps = 4 = 6 is not a "
                + "multiple of the 4 barrier tasks (2 executor(s) x 2 core(s)), each of which takes an equal slice of "
                + "the global batch", e.getMessage());
        BarrierPreflight.require("run.yaml", 32, 4, FITS);
    }

    @Test
    void theLayoutIsReadFromTheRunningContext() {
        Layout layout = Layout.of(SharedSpark.session().sparkContext());
        assertEquals(new Layout(1, SharedSpark.CORES, SharedSpark.CORES, 1, false), layout);
        assertEquals(2, BarrierPreflight.tasks("run.yaml", 8, 1, SharedSpark.session().sparkContext()));
        assertFalse(refused(9, layout).isEmpty());
    }
}
