package dev.sparkvit.jobs.pretrain;

import dev.sparkvit.jobs.probe.LinearProbe;
import java.nio.file.Path;

/**
 * What a pretraining run produced.
 *
 * @param iterationLosses NT-Xent loss of every iteration
 * @param negativesPerAnchor negatives each view was contrasted with (per replica slice)
 * @param pretrainedProbe linear probe of the EMA encoder
 * @param randomProbe the same probe on the randomly initialised encoder (the baseline)
 * @param weights safetensors file of the EMA weights (timm names)
 */
public record PretrainResult(float[] iterationLosses, int negativesPerAnchor, LinearProbe.Result pretrainedProbe,
        LinearProbe.Result randomProbe, Path weights) {
}
