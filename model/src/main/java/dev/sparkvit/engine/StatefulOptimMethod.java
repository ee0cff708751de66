package dev.sparkvit.engine;

import java.util.Map;

/**
 * An optimisation method whose per-element history (moments, momentum) can be read out and put back, so that a
 * checkpoint holds it. Under DistriOptimizer each partition keeps its own instance for its slice of a parameter
 * group; DLlib saves only the driver's instance, which never ran a step (docs/ENGINE.md), so sparkvit collects the
 * partitions' instances itself.
 */
public interface StatefulOptimMethod {
    /** Steps taken so far. */
    long step();

    /** Named per-element buffers, aligned with the slice this instance updates (empty before the first step). */
    Map<String, float[]> buffers();

    /** Puts back a step count and buffers read from {@link #buffers()} of an instance with the same slice. */
    void restore(long step, Map<String, float[]> buffers);
}
