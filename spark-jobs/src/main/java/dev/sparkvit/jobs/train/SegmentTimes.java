package dev.sparkvit.jobs.train;

import dev.sparkvit.engine.BarrierSegment;
import java.util.Locale;
import java.util.Map;

/**
 * Where a segment's time went, as one log line: the driver's wall time against the iterations' own time on task 0,
 * and task 0's phases in milliseconds an iteration, so that a user tuning speed sees whether the data, the step or
 * the exchange costs (and how much the segment's start and end add).
 */
final class SegmentTimes {
    private SegmentTimes() {
    }

    static String describe(double wallSeconds, BarrierSegment.Result result) {
        BarrierSegment.Timing timing = result.timing();
        int n = result.iterations();
        long iterationsNanos = 0;
        for (long t : timing.iterationNanos()) {
            iterationsNanos += t;
        }
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT,
                "%.2f s on the driver, %.2f s in task 0's iterations (median %.1f ms); ms an iteration:", wallSeconds,
                iterationsNanos / 1e9, timing.medianIterationMillis()));
        for (Map.Entry<String, Long> phase : timing.phaseNanos().entrySet()) {
            if (phase.getValue() > 0) {
                line.append(String.format(Locale.ROOT, " %s %.1f,", phase.getKey(), phase.getValue() / 1e6 / n));
            }
        }
        line.setLength(line.length() - 1);
        return line.toString();
    }
}
