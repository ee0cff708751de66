package dev.sparkvit.jobs.demo;

import java.nio.file.Path;
import java.util.Objects;

/**
 * What the demo job does: generate the embedded image dataset, ingest it, pretrain a small Vision Transformer with
 * SimCLR on it, fine-tune it and a from-scratch baseline, and evaluate both.
 *
 * @param outputDir where the dataset, TensorBoard events and the loss log go
 * @param imageSize side of the square generated images, a multiple of 4 from 8 to 256
 * @param imagesPerClass generated images per class (10 classes)
 * @param epochs pretraining epochs
 * @param batchSize global mini-batch, a multiple of the model replica count
 * @param learningRate AdamW peak learning rate
 * @param finetuneEpochs fine-tuning epochs, from the SSL encoder and from scratch alike
 * @param seed the one seed for data and weights
 */
public record DemoSettings(Path outputDir, int imageSize, int imagesPerClass, int epochs, int batchSize,
        double learningRate, int finetuneEpochs, long seed) {

    public DemoSettings {
        Objects.requireNonNull(outputDir, "outputDir");
        require(imageSize >= 8 && imageSize <= 256 && imageSize % 4 == 0, "image-size", imageSize,
                "a multiple of 4 from 8 to 256");
        require(imagesPerClass >= 1, "images-per-class", imagesPerClass, "at least 1");
        require(epochs >= 1, "epochs", epochs, "at least 1");
        require(finetuneEpochs >= 2, "finetune-epochs", finetuneEpochs, "at least 2");
        require(batchSize >= 2, "batch-size", batchSize, "at least 2");
        require(learningRate > 0 && Double.isFinite(learningRate), "lr", learningRate, "a positive number");
    }

    private static void require(boolean ok, String key, Object value, String expected) {
        if (!ok) {
            throw new IllegalArgumentException("--" + key + " = " + value + " is invalid: expected " + expected);
        }
    }
}
