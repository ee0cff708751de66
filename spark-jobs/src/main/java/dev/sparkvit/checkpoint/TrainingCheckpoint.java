package dev.sparkvit.checkpoint;

import dev.sparkvit.engine.DistributedTraining;
import dev.sparkvit.engine.PartitionedOptimizerState;
import dev.sparkvit.model.io.NamedTensor;
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
 */
public record TrainingCheckpoint(DistributedTraining.Progress progress, Map<String, NamedTensor> weights,
        Map<String, NamedTensor> ema, long emaUpdates, Map<String, PartitionedOptimizerState.GroupState> optimizer,
        Map<String, String> run) {
}
