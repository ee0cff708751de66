package dev.sparkvit.jobs.finetune;

import dev.sparkvit.jobs.evaluate.ClassificationMetrics;
import java.nio.file.Path;
import java.util.List;

/**
 * What a fine-tuning run produced; paths and final metrics are null when the run stopped early.
 *
 * @param losses training loss of every iteration the run's last attempt trained (from its start or checkpoint)
 * @param live validation metrics of the final live weights
 * @param ema validation metrics of the final EMA weights (null when the EMA is off)
 * @param liveWeights the live classifier
 * @param emaWeights the EMA classifier (null when the EMA is off)
 * @param curves the PNG of the curves
 * @param history one entry per epoch trained in this process
 */
public record FinetuneResult(float[] losses, ClassificationMetrics live, ClassificationMetrics ema, Path liveWeights,
        Path emaWeights, Path curves, List<FinetuneMonitor.Epoch> history) {
}
