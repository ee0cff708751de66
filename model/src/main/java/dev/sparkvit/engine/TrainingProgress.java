package dev.sparkvit.engine;

/**
 * Where a run stands: iterations trained, the 0-based epoch it is in and the records of that epoch already trained
 * (what a checkpoint stores and a resumed run starts from).
 */
public record TrainingProgress(long iterations, int epoch, long recordsInEpoch) {
    public TrainingProgress {
        if (iterations < 0 || epoch < 0 || recordsInEpoch < 0) {
            throw new IllegalArgumentException("training progress must be non-negative: " + iterations
                    + " iterations, epoch " + epoch + ", " + recordsInEpoch + " records");
        }
    }
}
