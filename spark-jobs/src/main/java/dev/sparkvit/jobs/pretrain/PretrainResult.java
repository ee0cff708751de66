package dev.sparkvit.jobs.pretrain;

import dev.sparkvit.jobs.probe.LinearProbe;
import java.nio.file.Path;
import java.util.List;

/**
 * What a pretraining run produced. A run stopped early (a test's interruption) has only the losses and history.
 *
 * @param iterationLosses NT-Xent loss of every iteration the run's last attempt trained (from its start or checkpoint)
 * @param negativesPerAnchor negatives each view was contrasted with (2B - 2 of the global batch B)
 * @param pretrainedProbe linear probe of the EMA encoder
 * @param randomProbe the same probe on the randomly initialised encoder (the baseline)
 * @param weights safetensors file of the EMA weights (timm names)
 * @param curves PNG of the loss and probe curves
 * @param epochs per-epoch loss, throughput, time and probe of this process's epochs
 */
public record PretrainResult(float[] iterationLosses, int negativesPerAnchor, LinearProbe.Result pretrainedProbe,
        LinearProbe.Result randomProbe, Path weights, Path curves, List<PretrainMonitor.Epoch> epochs) {
}
