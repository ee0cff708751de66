package dev.sparkvit.model.optim;

import java.io.Serializable;

/** The learning rate as a function of the iteration (0-based count of steps taken before this one). */
@FunctionalInterface
public interface LearningRateSchedule extends Serializable {
    double rate(long iteration);
}
