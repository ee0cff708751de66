package dev.sparkvit.jobs.bench;

/** Wall-clock timing of repeated runs of one piece of work, after one untimed warm-up run. */
final class Timing {
    private Timing() {
    }

    /** Seconds of each of {@code repeats} runs of {@code work}, after a warm-up run (JIT, class loading, caches). */
    static double[] seconds(int repeats, Runnable work) {
        if (repeats < 1) {
            throw new IllegalArgumentException("repeats must be at least 1, got " + repeats);
        }
        work.run();
        double[] seconds = new double[repeats];
        for (int r = 0; r < repeats; r++) {
            long start = System.nanoTime();
            work.run();
            seconds[r] = (System.nanoTime() - start) / 1e9;
        }
        return seconds;
    }
}
