package dev.sparkvit.jobs.train;

import java.util.List;

/**
 * Where a training job's monitor writes its TensorBoard scalars, and which iterations were skipped as non-finite:
 * the run's summary, kept by {@link BarrierTraining}.
 */
public interface TrainingScalars {
    void scalar(String tag, double value, long step);

    List<Long> skippedIterations();
}
