package dev.sparkvit.jobs.train;

import dev.sparkvit.engine.DistributedTraining;
import java.util.List;

/**
 * Where a training job's monitor writes its TensorBoard scalars, and which iterations were skipped as non-finite:
 * DistriOptimizer's summary ({@link #of}) or the barrier loop's ({@link BarrierTraining}).
 */
public interface TrainingScalars {
    void scalar(String tag, double value, long step);

    List<Long> skippedIterations();

    /** DistriOptimizer's summary and skipped steps. */
    static TrainingScalars of(DistributedTraining training) {
        return new TrainingScalars() {
            @Override
            public void scalar(String tag, double value, long step) {
                training.scalar(tag, value, step);
            }

            @Override
            public List<Long> skippedIterations() {
                return training.skippedIterations();
            }
        };
    }
}
