package dev.sparkvit.jobs.train;

import dev.sparkvit.config.ConfigException;
import dev.sparkvit.engine.BigDlEngine;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;

/**
 * Barrier execution's constraints, checked once Spark is up and before a run trains
 * (pretraining and fine-tuning, through {@link BarrierTraining}): each violation is one line naming the key and its
 * value ({@link ConfigException}, exit 2), where Spark would otherwise fail the first segment's stage, or wait for
 * slots that never come. The engine runs one barrier task per executor core, each holding one data partition, and a
 * barrier stage starts only when every task has a slot at once (docs/CLUSTER.md, "Barrier mode").
 */
public final class BarrierPreflight {
    private BarrierPreflight() {
    }

    /**
     * What the check reads of the running application: the executors and cores per executor the engine counts
     * ({@code BigDlEngine}: the tasks are their product), the cores registered with the scheduler now
     * ({@code defaultParallelism}), {@code spark.task.cpus} and {@code spark.dynamicAllocation.enabled}.
     */
    public record Layout(int executors, int coresPerExecutor, int registeredCores, int taskCpus,
            boolean dynamicAllocation) {
        /** The layout of {@code sc}, BigDL's Engine initialised. */
        public static Layout of(SparkContext sc) {
            SparkConf conf = sc.getConf();
            return new Layout(BigDlEngine.nodeNumber(), BigDlEngine.coreNumber(), sc.defaultParallelism(),
                    conf.getInt("spark.task.cpus", 1), conf.getBoolean("spark.dynamicAllocation.enabled", false));
        }

        /** The barrier tasks of a segment: one per executor core. */
        public int tasks() {
            return executors * coresPerExecutor;
        }

        /** Task slots: each executor runs {@code cores / spark.task.cpus} tasks at once. */
        int slots() {
            return executors * (coresPerExecutor / taskCpus);
        }
    }

    /** Checks {@code sc}'s layout ({@link #require}) and returns its barrier task count. */
    public static int tasks(String source, int batchSize, int accumulationSteps, SparkContext sc) {
        Layout layout = Layout.of(sc);
        require(source, batchSize, accumulationSteps, layout);
        return layout.tasks();
    }

    /** {@link #require(String, int, int, Layout)} of a run without gradient accumulation. */
    public static void require(String source, int batchSize, Layout layout) {
        require(source, batchSize, 1, layout);
    }

    /**
     * Refuses, with the first of these as one line: dynamic allocation on (executors come and go; Spark refuses
     * barrier stages with it on a cluster), a {@code spark.task.cpus} that leaves fewer slots than tasks, fewer
     * registered cores than tasks, and an iteration's global batch ({@code source}'s {@code training.batch_size},
     * divided by {@code training.gradient_accumulation_steps} when that is above 1) not divisible by the tasks (each
     * task takes an equal slice).
     */
    public static void require(String source, int batchSize, int accumulationSteps, Layout layout) {
        int tasks = layout.tasks();
        if (layout.dynamicAllocation()) {
            throw new ConfigException(source + ": training cannot run with "
                    + "spark.dynamicAllocation.enabled = true (a barrier stage needs a fixed set of executors with a "
                    + "slot for every task at once; set it to false)");
        }
        if (layout.taskCpus() != 1 && layout.slots() < tasks) {
            throw new ConfigException(source + ": training cannot run with spark.task.cpus = "
                    + layout.taskCpus() + ": it leaves " + layout.slots() + " task slot(s) (" + layout.executors()
                    + " executor(s) x " + layout.coresPerExecutor() + " core(s) / " + layout.taskCpus() + ") for the "
                    + tasks + " barrier tasks, one per core (set spark.task.cpus to 1)");
        }
        if (layout.registeredCores() < tasks) {
            throw new ConfigException(source + ": training cannot run " + tasks + " tasks ("
                    + layout.executors() + " executor(s) x " + layout.coresPerExecutor() + " core(s)) on "
                    + layout.registeredCores() + " free task slots (a barrier stage needs a slot for every task at "
                    + "once)");
        }
        int iterationBatch = batchSize / accumulationSteps;
        if (iterationBatch % tasks != 0) {
            throw new ConfigException(source + ": training.batch_size = " + batchSize + (accumulationSteps > 1
                    ? " / training.gradient_accumulation_steps = " + accumulationSteps + " = " + iterationBatch : "")
                    + " is not a multiple of the "
                    + tasks + " barrier tasks (" + layout.executors() + " executor(s) x " + layout.coresPerExecutor()
                    + " core(s)), each of which takes an equal slice of the global batch");
        }
    }
}
