package dev.sparkvit.bench;

import dev.sparkvit.model.vit.Head;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.model.vit.VitPresets;

/**
 * What one ViT training-throughput case runs: a preset with a linear head of {@code classes} outputs, trained on a
 * fixed synthetic batch of {@code batch} images with cross-entropy and AdamW, {@code warmup} untimed steps, then
 * {@code repeats} timed blocks of {@code steps} steps (one images/s sample per block).
 *
 * @param mode {@link Mode#STEP} (one replica in this thread) or {@link Mode#DISTRI} (DistriOptimizer on local[threads])
 */
public record VitBenchSettings(String model, int batch, int threads, int steps, int repeats, int warmup, int classes,
        Mode mode, long seed) {

    /** How the training steps are driven. */
    public enum Mode {
        /** Forward, backward and AdamW on one model replica in the calling thread (single-threaded MKL). */
        STEP,
        /** DLlib's DistriOptimizer on local[threads]: threads replicas of batch / threads images each. */
        DISTRI,
        /**
         * PROTOTYPE (not the product): DISTRI's work with one Spark job per block of steps instead of two jobs per
         * iteration ({@link IterationsPerJobPrototype}).
         */
        LOOP
    }

    public VitBenchSettings {
        VitPresets.get(model); // names the known presets when unknown
        positive("--batch", batch);
        positive("--threads", threads);
        positive("--steps", steps);
        positive("--repeats", repeats);
        positive("--classes", classes);
        if (warmup < 0) {
            throw new IllegalArgumentException("--warmup must be >= 0, got " + warmup);
        }
        if (mode == null) {
            throw new IllegalArgumentException("--mode is required: step, distri or loop");
        }
        if (mode == Mode.STEP && threads != 1) {
            throw new IllegalArgumentException("--mode step runs one single-threaded replica, so --threads must be 1 "
                    + "(got " + threads + "); use --mode distri for " + threads + " replicas on local[" + threads
                    + "]");
        }
        if (mode != Mode.STEP && batch % threads != 0) {
            throw new IllegalArgumentException("--batch " + batch + " is not a multiple of --threads " + threads
                    + ": DistriOptimizer gives each of the " + threads + " replicas an equal slice");
        }
    }

    private static void positive(String option, int value) {
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
