package dev.sparkvit.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One benchmarked quantity: repeated samples of a rate (higher is better) for one implementation at one thread
 * count. {@code params} holds what distinguishes it (matrix size, model, batch); the Python references write the
 * same fields, so bench/report.py can put both sides of a comparison in one table.
 */
public record Measurement(String name, String impl, int threads, String unit, Map<String, Object> params,
        double[] samples) {
    public Measurement {
        if (samples.length == 0) {
            throw new IllegalArgumentException("measurement " + name + " has no samples");
        }
        params = new LinkedHashMap<>(params);
        samples = samples.clone();
    }

    /** Rates from timed runs: {@code items / seconds[i]}. */
    public static Measurement fromSeconds(String name, String impl, int threads, String unit,
            Map<String, Object> params, double items, double[] seconds) {
        double[] rates = new double[seconds.length];
        for (int i = 0; i < seconds.length; i++) {
            rates[i] = items / seconds[i];
        }
        return new Measurement(name, impl, threads, unit, params, rates);
    }

    public double median() {
        double[] s = samples.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    @Override
    public String toString() {
        return String.format("%-64s %-16s %2d thr  median %10.2f %-10s of %d  %s", name, impl, threads, median(), unit,
                samples.length, params);
    }
}
