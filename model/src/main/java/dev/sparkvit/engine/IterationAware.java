package dev.sparkvit.engine;

/**
 * A module whose forward or backward depends on the training iteration (the ViT encoder's FreezeOut prefix). A
 * training loop tells it the 0-based iteration before each iteration's forward: {@link BarrierSegment} in every task
 * before every iteration (a task's replica is a copy of the driver's model, whose count is not the segment's).
 */
public interface IterationAware {
    /** The iteration the next training forward pass belongs to (0-based). */
    void setIteration(long iteration);
}
