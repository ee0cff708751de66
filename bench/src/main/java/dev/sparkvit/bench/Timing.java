package dev.sparkvit.bench;

import java.lang.management.ManagementFactory;

/** Wall-clock (and process CPU) timing of repeated runs of one piece of work, after one untimed warm-up run. */
final class Timing {
    private Timing() {
    }

    /** Seconds of each run: wall clock, and CPU time of the whole process (every thread: JIT, GC, Spark's). */
    record Runs(double[] wall, double[] cpu) {
    }

    /** Seconds of each of {@code repeats} runs of {@code work}, after a warm-up run (JIT, class loading, caches). */
    static double[] seconds(int repeats, Runnable work) {
        return runs(repeats, work).wall();
    }

    /**
     * {@link #seconds} with the process's CPU time of each run too: on a machine shared with other work, CPU seconds
     * per item are a steadier per-core figure than wall clock, which counts the time other processes hold the cores.
     */
    static Runs runs(int repeats, Runnable work) {
        if (repeats < 1) {
            throw new IllegalArgumentException("repeats must be at least 1, got " + repeats);
        }
        work.run();
        double[] wall = new double[repeats];
        double[] cpu = new double[repeats];
        for (int r = 0; r < repeats; r++) {
            timeInto(work, wall, cpu, r);
        }
        return new Runs(wall, cpu);
    }

    /**
     * Runs of two pieces of work taken in turn ({@code a, b, a, b, ...}), {@code repeats} timed pairs after
     * {@code warmups} untimed ones. Both then run in the same JIT and GC state, so the difference of their times is
     * the cost of what differs between them. Measured one after the other, the first would carry the JVM's
     * compilation of Spark's own code, which goes on for tens of runs (bench/notes/data.md, 2026-12-05).
     */
    static Runs[] alternated(int repeats, int warmups, Runnable a, Runnable b) {
        if (repeats < 1 || warmups < 0) {
            throw new IllegalArgumentException("repeats must be at least 1 and warm-ups at least 0, got " + repeats
                    + " and " + warmups);
        }
        for (int w = 0; w < warmups; w++) {
            a.run();
            b.run();
        }
        double[][] wall = new double[2][repeats];
        double[][] cpu = new double[2][repeats];
        Runnable[] work = {a, b};
        for (int r = 0; r < repeats; r++) {
            for (int k = 0; k < 2; k++) {
                timeInto(work[k], wall[k], cpu[k], r);
            }
        }
        return new Runs[] {new Runs(wall[0], cpu[0]), new Runs(wall[1], cpu[1])};
    }

    /** Runs {@code work} once and stores its wall-clock and process CPU seconds at index {@code r}. */
    private static void timeInto(Runnable work, double[] wall, double[] cpu, int r) {
        long cpuStart = processCpuNanos();
        long start = System.nanoTime();
        work.run();
        wall[r] = (System.nanoTime() - start) / 1e9;
        cpu[r] = (processCpuNanos() - cpuStart) / 1e9;
    }

    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        throw new IllegalStateException("this JVM does not report its process CPU time");
    }
}
