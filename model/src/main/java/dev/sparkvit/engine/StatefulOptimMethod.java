package dev.sparkvit.engine;

import java.util.Map;

/**
 * An optimisation method whose per-element history (moments, momentum) can be read out and put back, so that a
 * checkpoint holds it. Every barrier task keeps its own instance per parameter group, all identical; a segment
 * restores every task's from its {@link BarrierSegment.Start} and gathers the state in its result from every task's
 * piece ({@link PartitionedOptimizerState.GroupState}).
 */
public interface StatefulOptimMethod {
    /** Steps taken so far. */
    long step();

    /** Named per-element buffers, aligned with the slice this instance updates (empty before the first step). */
    Map<String, float[]> buffers();

    /** Puts back a step count and buffers read from {@link #buffers()} of an instance with the same slice. */
    void restore(long step, Map<String, float[]> buffers);
}
