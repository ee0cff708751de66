package dev.sparkvit.jobs.probe;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Runs independent driver-side computations that each submit their own Spark jobs at the same time, one thread each,
 * and returns their results in order. MLlib's L-BFGS runs one small Spark job per iteration, each mostly waiting on
 * the scheduler; two fits side by side take about the time of one. New threads inherit the caller's Spark local
 * properties (job group, scheduler pool). The results do not depend on the interleaving: each computation's jobs are
 * its own.
 */
final class Concurrently {
    private Concurrently() {
    }

    /** Every task's result, in order; the first task's failure (in order) is rethrown once all have ended. */
    static <T> List<T> all(List<Supplier<T>> tasks) {
        List<Object[]> outcomes = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < tasks.size(); i++) {
            Object[] outcome = new Object[2]; // result, failure
            Supplier<T> task = tasks.get(i);
            outcomes.add(outcome);
            Thread thread = new Thread(() -> {
                try {
                    outcome[0] = task.get();
                } catch (Throwable e) { // handed to the caller below
                    outcome[1] = e;
                }
            }, "sparkvit-probe-" + i);
            thread.setDaemon(true);
            threads.add(thread);
            thread.start();
        }
        boolean interrupted = false;
        for (Thread thread : threads) {
            while (true) {
                try {
                    thread.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // the fits' jobs end on their own; keep the interrupt for the caller
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        List<T> results = new ArrayList<>();
        for (Object[] outcome : outcomes) {
            if (outcome[1] instanceof RuntimeException e) {
                throw e;
            }
            if (outcome[1] instanceof Error e) {
                throw e;
            }
            if (outcome[1] != null) {
                throw new IllegalStateException((Throwable) outcome[1]);
            }
            @SuppressWarnings("unchecked")
            T result = (T) outcome[0];
            results.add(result);
        }
        return results;
    }
}
