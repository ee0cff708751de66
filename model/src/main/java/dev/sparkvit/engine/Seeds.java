package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.utils.RandomGenerator$;

/** Seeds DLlib's random generator, which drives weight initialisation. */
public final class Seeds {
    /** The project's one default seed. */
    public static final long DEFAULT = 42L;

    private Seeds() {
    }

    /** Seeds the calling thread's DLlib generator (weight initialisation happens on the thread that builds). */
    public static void seedWeightInit(long seed) {
        RandomGenerator$.MODULE$.RNG().setSeed(seed);
    }
}
