package dev.sparkvit.checkpoint;

import dev.sparkvit.engine.TrainingProgress;
import dev.sparkvit.engine.PartitionedOptimizerState;
import dev.sparkvit.model.io.NamedTensor;
import java.util.List;
import java.util.Map;

/**
 * Everything a training run needs to continue exactly: where it stands, the live weights, the weight EMA and its
 * update count, every parameter group's optimiser history (gathered over all partitions), and the settings it was
 * started with (a resume with different settings is refused).
 *
 * @param progress iterations, epoch and records into the epoch
 * @param weights live weights by parameter name
 * @param ema averaged weights by parameter name
 * @param emaUpdates updates folded into the EMA
 * @param optimizer history per parameter group
 * @param run the settings of the run, as text
 * @param emaSkipsNextFold the last step before the checkpoint was dropped as non-finite, so the EMA's next fold
 *     (of the same weights) does not happen
 * @param skippedIterations iterations (0-based) the run skipped as non-finite so far, in order
 */
public record TrainingCheckpoint(TrainingProgress progress, Map<String, NamedTensor> weights,
        Map<String, NamedTensor> ema, long emaUpdates, Map<String, PartitionedOptimizerState.GroupState> optimizer,
        Map<String, String> run, boolean emaSkipsNextFold, List<Long> skippedIterations) {
    public TrainingCheckpoint {
        skippedIterations = List.copyOf(skippedIterations);
    }

    /** A checkpoint of a run that skipped no step. */
    public TrainingCheckpoint(TrainingProgress progress, Map<String, NamedTensor> weights,
            Map<String, NamedTensor> ema, long emaUpdates, Map<String, PartitionedOptimizerState.GroupState> optimizer,
            Map<String, String> run) {
        this(progress, weights, ema, emaUpdates, optimizer, run, false, List.of());
    }
}
