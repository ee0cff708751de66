package dev.sparkvit.jobs.pretrain;

import dev.sparkvit.config.ConfigException;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code training.engine: barrier} (issue 21's engine: {@code engine.BarrierSegment}, global NT-Xent, no
 * DistriOptimizer) does not support yet, refused before training with one line naming the key and its value: never
 * silently ignored. docs/ENGINE.md lists what the segment still lacks.
 */
public final class BarrierPretraining {
    private BarrierPretraining() {
    }

    /**
     * Every setting of {@code settings} the barrier engine does not support yet, one line each (empty when the run
     * can train on it, or when it trains with DistriOptimizer).
     */
    static List<String> unsupported(PretrainSettings settings) {
        List<String> lines = new ArrayList<>();
        if (!settings.barrier()) {
            return lines;
        }
        String source = settings.source();
        // FreezeOut, LARS and training.non_finite: skip run on it as on DistriOptimizer (BarrierSegment)
        if (settings.projectionBatchNorm()) {
            lines.add(line(source, "projection_norm", "batch", "set none: each task's BatchNorm would normalise its "
                    + "own slice, not the global batch"));
        }
        double dropPath = settings.model().config().dropPathRate();
        if (dropPath > 0) {
            lines.add(line(source, "model.preset", settings.preset() + " (drop_path_rate " + dropPath + ")",
                    "a preset without drop-path: per-task random numbers are not reproducible yet"));
        }
        return lines;
    }

    /** Refuses the first unsupported setting ({@link #unsupported}); nothing for a DistriOptimizer run. */
    public static void requireSupported(PretrainSettings settings) {
        List<String> lines = unsupported(settings);
        if (!lines.isEmpty()) {
            throw new ConfigException(lines.get(0));
        }
    }

    /**
     * Refuses a layout the barrier stage cannot run: a global batch not divisible by its {@code tasks} (one per data
     * partition), or more tasks than the {@code slots} free for them at once (a barrier stage waits for all).
     */
    static void requireLayout(PretrainSettings settings, int tasks, int slots) {
        if (tasks > slots) {
            throw new ConfigException(line(settings.source(), "cluster", tasks + " tasks on " + slots + " free task "
                    + "slots", "a barrier stage needs a slot for every task at once"));
        }
        if (settings.batchSize() % tasks != 0) {
            throw new ConfigException(line(settings.source(), "training.batch_size", settings.batchSize(),
                    "a multiple of the " + tasks + " barrier tasks"));
        }
    }

    private static String line(String source, String key, Object value, String instead) {
        return source + ": " + key + " = " + value + " is not supported with training.engine: barrier yet ("
                + instead + ")";
    }
}
