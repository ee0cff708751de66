package dev.sparkvit.jobs.pretrain;

import dev.sparkvit.config.ConfigException;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code training.engine: barrier} (issue 21's engine: {@code engine.BarrierSegment}, global NT-Xent, no
 * DistriOptimizer) does not support yet, refused before training with one line naming the key and its value: never
 * silently ignored. docs/ENGINE.md lists what the segment still lacks. Supported since: {@code projection_norm: batch}
 * (the head's BatchNorm is {@code SyncBatchNorm}, statistics of the global batch) and drop-path (draws keyed by the
 * run's seed, the iteration and the row's place in the global batch).
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
        // FreezeOut, LARS and training.non_finite: skip run on it as on DistriOptimizer (BarrierSegment's parameter
        // groups, processors and non-finite policy); projection_norm: batch and drop-path too (SyncBatchNorm, keyed
        // draws). Nothing of PretrainSettings is refused today; the layout is checked once Spark is up.
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
