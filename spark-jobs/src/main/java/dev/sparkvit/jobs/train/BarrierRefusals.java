package dev.sparkvit.jobs.train;

import dev.sparkvit.config.ConfigException;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code training.engine: barrier} ({@link BarrierTraining}) does not support yet, in either training job,
 * refused before training with one line naming the key and its value: never silently ignored. Each job lists its
 * settings through the checks that apply to it ({@code FinetuneSettings.barrierRefusals()}; pretraining has
 * nothing left to refuse); docs/ENGINE.md lists what the segment still lacks.
 */
public final class BarrierRefusals {
    private final String source;
    private final boolean barrier;
    private final List<String> lines = new ArrayList<>();

    private BarrierRefusals(String source, boolean barrier) {
        this.source = source;
        this.barrier = barrier;
    }

    /** The checks of a run read from {@code source}; none refuse anything unless {@code barrier}. */
    public static BarrierRefusals of(String source, boolean barrier) {
        return new BarrierRefusals(source, barrier);
    }

    /**
     * {@code training.gradient_accumulation_steps}: the segment's methods accumulate (BarrierSegmentGroupsTest), but
     * its EMA folds every micro-batch where the DistriOptimizer path's folds every optimiser step.
     */
    public BarrierRefusals accumulation(int steps) {
        return refuseIf(steps > 1, "training.gradient_accumulation_steps", steps, "1");
    }

    /** Every refused setting, one line each (empty when the run can train on the barrier engine, or on distri). */
    public List<String> lines() {
        return List.copyOf(lines);
    }

    /** Refuses the first refused setting, if any. */
    public void require() {
        if (!lines.isEmpty()) {
            throw new ConfigException(lines.get(0));
        }
    }

    private BarrierRefusals refuseIf(boolean refused, String key, Object value, String instead) {
        if (barrier && refused) {
            lines.add(line(source, key, value, instead));
        }
        return this;
    }

    private static String line(String source, String key, Object value, String instead) {
        return source + ": " + key + " = " + value + " is not supported with training.engine: barrier yet ("
                + instead + ")";
    }
}
