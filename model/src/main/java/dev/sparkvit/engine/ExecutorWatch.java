package dev.sparkvit.engine;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.spark.SparkContext;
import scala.collection.JavaConverters;

/**
 * The executors a training attempt started with, and which of them are gone.
 *
 * <p>A barrier segment keeps no training state on the executors between segments (each starts from the driver's
 * broadcast {@link BarrierSegment.Start}), but while it runs each task's replica, data partition and exchange blocks
 * ({@link FloatBlocks}) live on that task's executor, and a lost executor fails the whole barrier stage, whatever
 * message the failure then carries. So an attempt is trusted only while every executor it started with is alive;
 * {@link #lost()} says which are gone.
 *
 * <p>The executor ids are the scheduler backend's, updated before Spark fails or reschedules a task of a lost executor,
 * so a recomputation caused by a loss is always visible here by the time the job that did it returns. Ids are never
 * reused: a relaunched executor has a new one. In local mode there are no executors to lose.
 */
public final class ExecutorWatch {
    private final Supplier<List<String>> alive;
    private final Set<String> started;

    ExecutorWatch(Supplier<List<String>> alive) {
        this.alive = alive;
        this.started = new LinkedHashSet<>(alive.get());
    }

    /** Watches the executors {@code sc} has now. */
    public static ExecutorWatch of(SparkContext sc) {
        return new ExecutorWatch(() -> executorIds(sc));
    }

    /**
     * Waits until {@code sc} has at least {@code count} executors, then watches them. The barrier tasks are the
     * executors the Engine counted at start times their cores, and a barrier stage needs a slot for every task at
     * once, so a run whose executor died waits for the cluster manager to launch its replacement.
     *
     * @throws ExecutorsMissingException after {@code timeoutSeconds} with fewer executors
     */
    public static ExecutorWatch await(SparkContext sc, int count, long timeoutSeconds) {
        if (sc.isLocal()) {
            return of(sc);
        }
        long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        List<String> ids = executorIds(sc);
        while (ids.size() < count && System.nanoTime() < deadline) {
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for executors", e);
            }
            ids = executorIds(sc);
        }
        if (ids.size() < count) {
            throw new ExecutorsMissingException(ids.size(), count, timeoutSeconds);
        }
        return of(sc);
    }

    /** The ids of the executors alive now (none in local mode, where the driver computes). */
    public static List<String> executorIds(SparkContext sc) {
        if (sc.isLocal()) {
            return List.of();
        }
        // SparkContext.getExecutorIds is private[spark] in Scala (public in bytecode): the scheduler backend's own map
        return new ArrayList<>(JavaConverters.seqAsJavaList(sc.getExecutorIds()));
    }

    /** The executors this attempt started with, in the order Spark listed them. */
    public List<String> started() {
        return List.copyOf(started);
    }

    /** The executors this attempt started with that are gone now (empty while all are alive). */
    public List<String> lost() {
        Set<String> now = new LinkedHashSet<>(alive.get());
        List<String> lost = new ArrayList<>();
        for (String id : started) {
            if (!now.contains(id)) {
                lost.add(id);
            }
        }
        return lost;
    }

    /**
     * @throws ExecutorLostException when an executor this attempt started with is gone: its training state was lost
     *     and whatever was computed since may rest on partly reset state
     */
    public void requireIntact(String during) {
        List<String> lost = lost();
        if (!lost.isEmpty()) {
            throw new ExecutorLostException(lost, during);
        }
    }

    /** An executor the training ran on is gone; the training state it held (and anything computed since) is lost. */
    public static final class ExecutorLostException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final List<String> lost;

        public ExecutorLostException(List<String> lost, String during) {
            super("executor " + String.join(", ", lost) + " was lost " + during + ": its cached training data and "
                    + "read positions are gone, and Spark recomputes such cached partitions from their start, so "
                    + "this state cannot be trusted");
            this.lost = List.copyOf(lost);
        }

        public List<String> lost() {
            return lost;
        }
    }

    /** Fewer executors than the training needs came back in time. */
    public static final class ExecutorsMissingException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public ExecutorsMissingException(int have, int need, long seconds) {
            super("only " + have + " of the " + need + " executors the training runs on (one per data partition, as "
                    + "DLlib's Engine counted them at start) are registered after waiting " + seconds + " s "
                    + "(training.restart_wait_seconds); the cluster did not replace the lost executor: check its "
                    + "workers (submit/standalone.sh status) and resume with --resume once they are up");
        }
    }
}
