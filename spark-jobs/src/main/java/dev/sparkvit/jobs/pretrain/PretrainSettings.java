package dev.sparkvit.jobs.pretrain;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A SimCLR pretraining run (the training guide's phase 1).
 *
 * @param dataset ingested dataset folder
 * @param outputDir TensorBoard events, weights and results
 * @param preset model preset name
 * @param epochs passes over the train split
 * @param batchSize images per global batch (each image gives two views), a multiple of the replica count
 * @param learningRate AdamW base learning rate
 * @param weightDecay AdamW decoupled weight decay (applied to every parameter for now)
 * @param warmupEpochs linear warmup, in epochs
 * @param temperature NT-Xent temperature
 * @param projectionDim SimCLR projection size
 * @param freezeOut whether blocks freeze on FreezeOut's cubic schedule (t0 = 0.8)
 * @param emaDecay decay of the weight EMA used for the probe
 * @param seed the one seed of weights, views and order
 */
public record PretrainSettings(String dataset, Path outputDir, String preset, int epochs, int batchSize,
        double learningRate, double weightDecay, int warmupEpochs, double temperature, int projectionDim,
        boolean freezeOut, double emaDecay, long seed) {

    public PretrainSettings {
        Objects.requireNonNull(dataset, "dataset");
        Objects.requireNonNull(outputDir, "outputDir");
        require(epochs >= 1, "epochs", epochs, "at least 1");
        require(batchSize >= 2, "batch-size", batchSize, "at least 2");
        require(learningRate > 0, "lr", learningRate, "positive");
        require(weightDecay >= 0, "weight-decay", weightDecay, "non-negative");
        require(warmupEpochs >= 0 && warmupEpochs < epochs, "warmup-epochs", warmupEpochs, "0 to epochs - 1");
        require(temperature > 0, "temperature", temperature, "positive");
        require(projectionDim >= 1, "projection-dim", projectionDim, "at least 1");
        require(emaDecay >= 0 && emaDecay < 1, "ema-decay", emaDecay, "in [0, 1)");
    }

    private static void require(boolean ok, String key, Object value, String expected) {
        if (!ok) {
            throw new IllegalArgumentException("--" + key + " = " + value + " is invalid: expected " + expected);
        }
    }
}
