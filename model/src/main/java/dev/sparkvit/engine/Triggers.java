package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.optim.Trigger;
import com.intel.analytics.bigdl.dllib.optim.Trigger$;

/** DLlib's training triggers (when to stop, when to checkpoint, when to validate). */
public final class Triggers {
    private Triggers() {
    }

    public static Trigger maxIteration(int iterations) {
        return Trigger$.MODULE$.maxIteration(iterations);
    }

    public static Trigger maxEpoch(int epochs) {
        return Trigger$.MODULE$.maxEpoch(epochs);
    }

    public static Trigger everyEpoch() {
        return Trigger$.MODULE$.everyEpoch();
    }

    public static Trigger severalIteration(int interval) {
        return Trigger$.MODULE$.severalIteration(interval);
    }
}
