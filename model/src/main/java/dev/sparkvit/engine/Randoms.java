package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.utils.RandomGenerator$;

/** Training-time random draws (stochastic depth masks) from DLlib's per-thread generator. */
public final class Randoms {
    private Randoms() {
    }

    /** A uniform draw in [0, 1) from the calling thread's DLlib generator (each model replica has its own thread). */
    public static double uniform() {
        return RandomGenerator$.MODULE$.RNG().uniform(0.0, 1.0);
    }
}
