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
        String source = settings.source();
        if (settings.freezeOut().enabled()) {
            lines.add(line(source, "training.freezeout.enabled", true, "one optimiser over all parameters"));
        }
        if (settings.optimizer().equals("lars")) {
            lines.add(line(source, "training.optimizer", "lars", "adamw or sgd"));
        }
        if (settings.nonFinite().skip()) {
            lines.add(line(source, "training.non_finite", "skip", "stop"));
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

    private static String line(String source, String key, Object value, String instead) {
        return source + ": " + key + " = " + value + " is not supported with training.engine: barrier yet ("
                + instead + ")";
    }
}
