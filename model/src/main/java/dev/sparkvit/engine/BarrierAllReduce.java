package dev.sparkvit.engine;

import java.util.LinkedHashSet;
import java.util.Set;
import org.apache.spark.BarrierTaskContext;

/**
 * The gradient exchange of a barrier stage (issue 21): every task passes its flat float gradient (the same length P on
 * every task) and gets back, in the same array, the average over the T tasks, bit-identical on every task, with the
 * L2 norm of that average, the same double on every task. Built on Spark's BlockManager and barrier calls only; no
 * gradient byte passes through the driver.
 *
 * <p><b>What it computes</b>: element i of the result is {@code (float) ((g_0[i] + g_1[i] + ... + g_{T-1}[i]) / T)},
 * the sum taken in double, starting from task 0's value and adding the others in task (partition) order (IEEE's sum:
 * negative zeros from every task stay negative), then divided by T in double and rounded once to float: the same
 * inputs and T give the same bits, whatever the executors' timing, and each element is within half a float ulp of
 * the exact average, plus the double sum's and division's rounding (at most 2^-53 of the sum of |g_t[i]|). The norm is
 * {@code sqrt(s_0 + ... + s_{T-1})} in double, where {@code s_j} is the sum of squares, in double, of chunk j of the
 * float result, in a fixed order ({@link #sumOfSquares}: four interleaved partial sums, so the additions pipeline);
 * every task adds the same T doubles in the same order. A non-finite gradient gives a non-finite norm (the guard's
 * signal), nothing else. With one task the array is left as it is (the average of one gradient) and only its norm is
 * computed: no block, no barrier.
 *
 * <p><b>How</b> (one call, round r): the array is cut into T chunks ({@link GradientChunks}).
 * <ol>
 *   <li>Task t puts chunk j of its gradient as block {@code p<t>_<j>} of round r for every other task j (T - 1 blocks
 *       per task, P (T - 1) / T floats), then {@code barrier()}.</li>
 *   <li>Task j reads block {@code p<t>_<j>} of every other task t (from its own BlockManager or a remote one), sums
 *       them with its own chunk in task order, writes the average into its chunk of the array, puts it as block
 *       {@code s<j>}, and all tasks exchange {@code s_j} and P with {@link BarrierAllGather} (16 bytes a task; the
 *       call is also the second barrier: every chunk sum is stored and every {@code p} block read).</li>
 *   <li>Task t removes its own {@code p} blocks of round r and reads every other task's {@code s} block into its
 *       array.</li>
 * </ol>
 * Its {@code s} block of round r is removed by each task in the next round, after that round's {@code barrier()} (by
 * then every task has read it), or by {@link #close()}, which every task must call when its last round is over (one
 * more {@code barrier()}). At most two rounds of blocks exist at once; after {@code close()} none. A task that fails
 * or is killed removes the blocks it put when Spark completes it (a task completion listener, which Spark runs for
 * failed and killed tasks too); the stage fails as a whole, so no task still needs them. A peer that reads such a
 * block in the meantime waits for Spark to kill it ({@link FloatBlocks#awaitStageAbort}), so the stage fails for the
 * first task's reason, not for the missing block. Blocks of an executor that
 * dies go with its BlockManager. Block names carry the stage id, stage attempt and round, so no two rounds or stage
 * attempts ever share a name.
 *
 * <p><b>Why not DLlib's {@code AllReduceParameter}</b>: it works the same way over the same BlockManager, but ties
 * the exchange to DLlib's partitioned weights and its thread pool: its reads take read locks for Spark's non-task
 * owner that are never released, its blocks are never removed (docs/ENGINE.md, "Parameter blocks"), and it
 * compresses to 16 bits unless told otherwise. Here each block is read under the reading task's lock, released at
 * once, and removed by the task that put it once the barrier order proves every reader done, in float32.
 *
 * <p>Data per call: each task sends and receives P (T - 1) / T floats twice (about 2 x 4P bytes, as a ring
 * all-reduce), plus a few small RPCs per block to the BlockManagerMaster (register, locate, remove) and two barrier
 * calls (three in local mode: {@link BarrierAllGather}'s fence). Memory: the BlockManager holds up to two rounds'
 * blocks (about 4P bytes per task each), {@link FloatBlocks} keeps the byte buffers of removed ones for the next
 * rounds (as much again), this object a double accumulator and a float buffer of P / T.
 *
 * <p>Every task of the stage must make the same calls in the same order (create one per task, at most one per
 * {@code tag} in a stage), with arrays of the same length (a mismatch fails the call). Not thread-safe.
 */
public final class BarrierAllReduce implements AutoCloseable {
    private final BarrierTaskContext context;
    private final BarrierAllGather norms;
    private final FloatBlocks blocks;
    private final String names;
    private final int task;
    private final int tasks;
    private final Set<String> stored = new LinkedHashSet<>();
    private String previousSum;
    private long round;
    private boolean closed;
    private double[] sums = new double[0];
    private float[] buffer = new float[0];
    /** Nanoseconds spent in each phase over all rounds, for measurements: see {@link #PHASES}. */
    final long[] phaseNanos = new long[PHASES.length];
    static final String[] PHASES = {"put parts", "barrier", "reduce and put sum", "all-gather norms", "read sums"};

    BarrierAllReduce(BarrierTaskContext context, String tag, boolean alwaysRemote) {
        this.context = context;
        this.norms = new BarrierAllGather(context);
        this.blocks = new FloatBlocks(alwaysRemote);
        this.task = context.partitionId();
        this.tasks = context.getTaskInfos().length;
        this.names = "sparkvit_allreduce_" + tag + "_" + context.stageId() + "_" + context.stageAttemptNumber() + "_";
        // runs on the task's thread when it ends, also when it failed or was killed: a failed stage leaves nothing
        context.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) ended -> removeAllStored());
    }

    /** The exchange of the barrier task running on this thread; fails outside a barrier stage. */
    public static BarrierAllReduce current(String tag) {
        return new BarrierAllReduce(BarrierTaskContext.get(), tag, false);
    }

    /** This task's index, its partition id. */
    public int task() {
        return task;
    }

    /** How many tasks take part (the stage's). */
    public int tasks() {
        return tasks;
    }

    /**
     * Replaces {@code gradient} by the average of every task's gradient (class comment) and returns the L2 norm of
     * that average; every task must pass an array of the same length.
     */
    public double averageInPlace(float[] gradient) {
        if (closed) {
            throw new IllegalStateException("the exchange of task " + task + " is closed");
        }
        long start = System.nanoTime();
        if (tasks == 1) { // nothing to exchange: the same bits as the general path, none of its blocks or calls
            round++;
            double norm = Math.sqrt(sumOfSquares(gradient, 0, gradient.length));
            phaseNanos[2] += System.nanoTime() - start;
            return norm;
        }
        GradientChunks chunks = new GradientChunks(gradient.length, tasks);
        String prefix = names + round + "_";
        round++;
        for (int j = 0; j < tasks; j++) {
            if (j != task && chunks.size(j) > 0) {
                put(prefix + "p" + task + "_" + j, gradient, chunks.from(j), chunks.size(j));
            }
        }
        long putDone = System.nanoTime();
        BarrierWaker.during(() -> {
            context.barrier();
            return null;
        });
        removePreviousSum();
        long barrierDone = System.nanoTime();

        int from = chunks.from(task);
        int size = chunks.size(task);
        double sumOfSquares = reduceOwnChunk(prefix, gradient, from, size);
        if (size > 0) {
            previousSum = prefix + "s" + task;
            put(previousSum, gradient, from, size);
        }
        long reduceDone = System.nanoTime();
        double[][] gathered = norms.doubles(new double[] {sumOfSquares, gradient.length});
        long gatherDone = System.nanoTime();
        for (int j = 0; j < tasks; j++) {
            if (j != task && chunks.size(j) > 0) {
                remove(prefix + "p" + task + "_" + j);
            }
        }
        double total = 0;
        for (int t = 0; t < tasks; t++) {
            if (gathered[t][1] != gradient.length) {
                throw new IllegalArgumentException("task " + t + " passed " + (long) gathered[t][1]
                        + " gradient numbers, task " + task + " " + gradient.length);
            }
            total += gathered[t][0];
        }
        for (int j = 0; j < tasks; j++) {
            if (j != task && chunks.size(j) > 0) {
                blocks.read(prefix + "s" + j, gradient, chunks.from(j), chunks.size(j));
            }
        }
        long end = System.nanoTime();
        phaseNanos[0] += putDone - start;
        phaseNanos[1] += barrierDone - putDone;
        phaseNanos[2] += reduceDone - barrierDone;
        phaseNanos[3] += gatherDone - reduceDone;
        phaseNanos[4] += end - gatherDone;
        return Math.sqrt(total);
    }

    /**
     * Ends the exchange: one {@code barrier()} (every task has read every block), then this task's last blocks are
     * removed. Every task must call it after its last round; nothing may be called after it.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        BarrierWaker.during(() -> {
            context.barrier();
            return null;
        });
        removeAllStored();
        // Spark may keep a finished task's completion listener, and this object with it, until a later task: keep
        // none of the round's buffers (for a model of n weights, 12 n / T bytes plus the blocks' spare buffers)
        sums = new double[0];
        buffer = new float[0];
        blocks.dropSpareBuffers();
    }

    /** Sums chunk {@code [from, from + size)} over the tasks in task order into the array; its sum of squares. */
    private double reduceOwnChunk(String prefix, float[] gradient, int from, int size) {
        if (size == 0) {
            return 0;
        }
        if (sums.length != size) {
            sums = new double[size];
            buffer = new float[size];
        }
        double divisor = tasks;
        for (int t = 0; t < tasks; t++) { // called with two tasks or more
            float[] part = gradient;
            int offset = from;
            if (t != task) {
                blocks.read(prefix + "p" + t + "_" + task, buffer, 0, size);
                part = buffer;
                offset = 0;
            }
            if (t == 0) {
                for (int i = 0; i < size; i++) {
                    sums[i] = part[offset + i];
                }
            } else if (t < tasks - 1) {
                for (int i = 0; i < size; i++) {
                    sums[i] += part[offset + i];
                }
            } else { // the last task's addition and the division (no loop-carried dependency: the JIT vectorises it)
                for (int i = 0; i < size; i++) {
                    gradient[from + i] = (float) ((sums[i] + part[offset + i]) / divisor);
                }
            }
        }
        return sumOfSquares(gradient, from, size);
    }

    /**
     * The sum of the squares of {@code values[from, from + size)} in double: four partial sums over the elements
     * i = 0, 1, 2, 3 mod 4, then {@code (s0 + s1) + (s2 + s3)}; a fixed order, so the same array gives the same bits.
     */
    static double sumOfSquares(float[] values, int from, int size) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int i = 0;
        for (; i + 3 < size; i += 4) {
            double v0 = values[from + i];
            double v1 = values[from + i + 1];
            double v2 = values[from + i + 2];
            double v3 = values[from + i + 3];
            s0 += v0 * v0;
            s1 += v1 * v1;
            s2 += v2 * v2;
            s3 += v3 * v3;
        }
        for (; i < size; i++) {
            double v = values[from + i];
            s0 += v * v;
        }
        return (s0 + s1) + (s2 + s3);
    }

    private void put(String name, float[] values, int from, int count) {
        stored.add(name);
        blocks.put(name, values, from, count);
    }

    private void remove(String name) {
        blocks.remove(name);
        stored.remove(name);
    }

    private void removePreviousSum() {
        if (previousSum != null) {
            remove(previousSum);
            previousSum = null;
        }
    }

    private void removeAllStored() {
        // a killed task's thread may carry an interrupt, which would break the wait for the write lock
        boolean interrupted = Thread.interrupted();
        RuntimeException first = null;
        try {
            for (String name : stored.toArray(new String[0])) {
                try {
                    remove(name);
                } catch (RuntimeException e) {
                    if (first == null) {
                        first = e;
                    }
                }
            }
            previousSum = null;
            if (first != null) {
                throw first;
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
