package dev.sparkvit.bench;

import dev.sparkvit.model.vit.Head;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.model.vit.VitPresets;

/**
 * What one ViT training-step case runs: a preset with a linear head of {@code classes} outputs, trained in the calling
 * thread on a fixed synthetic batch of {@code batch} images with cross-entropy and AdamW, {@code warmup} untimed
 * steps, then {@code repeats} timed blocks of {@code steps} steps (one images/s sample per block). One replica, one
 * thread: the product's training jobs at T threads are {@link ProductBenchmark}.
 */
public record VitBenchSettings(String model, int batch, int steps, int repeats, int warmup, int classes, long seed) {

    public VitBenchSettings {
        VitPresets.get(model); // names the known presets when unknown
        positive("--batch", batch);
        positive("--steps", steps);
        positive("--repeats", repeats);
        positive("--classes", classes);
        if (warmup < 0) {
            throw new IllegalArgumentException("--warmup must be >= 0, got " + warmup);
        }
    }

    static void positive(String option, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(option + " must be at least 1, got " + value);
        }
    }

    public VitConfig config() {
        return VitPresets.get(model);
    }

    public Head head() {
        return Head.classifier(classes);
    }

    /** Training steps taken in all: warm-up plus timed. */
    public int totalSteps() {
        return warmup + steps * repeats;
    }
}
