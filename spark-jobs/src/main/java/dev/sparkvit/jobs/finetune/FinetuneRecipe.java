package dev.sparkvit.jobs.finetune;

import java.util.Locale;

/**
 * Fine-tuning's starting points by the size of the train split: the training guide's table (seed 002,
 * "Recommended Starting Points": small below 5K images, medium to 50K, large above) for batch size, learning rate,
 * warmup, weight decay and drop path, and the augmentation that suits each size. Every value is what a key set to
 * {@code auto} (the default) resolves to; a value given in the config wins.
 *
 * <p>Where sparkvit departs from the guide it is measured (docs/FINETUNING.md, "Recipe by dataset size"): the
 * guide's warmup counts epochs of its 100-epoch schedule, so the warmup here is the same share of
 * {@code training.epochs}; and small datasets train without mixup or cutmix, with light augmentation, and at a
 * learning rate fit for the small presets: on the digits (1,433 train images) the moderate recipe with mixup and
 * cutmix ended at 0.21-0.34 test accuracy, below a linear model on the pixels.
 *
 * @param scale the size class
 * @param batchSize images per optimiser step
 * @param learningRate peak learning rate of the head
 * @param warmupShare the warmup as a share of the epochs (the guide's epochs out of its 100)
 * @param weightDecay decoupled weight decay
 * @param dropPathRate stochastic depth of the last block
 * @param severity augmentation severity
 * @param mixup whether mixup is on
 * @param cutmix whether cutmix is on
 */
public record FinetuneRecipe(Scale scale, int batchSize, double learningRate, double warmupShare,
        double weightDecay, double dropPathRate, String severity, boolean mixup, boolean cutmix) {

    /** The guide's size classes of the train split. */
    public enum Scale {
        SMALL, MEDIUM, LARGE;

        /** Train images below this are small. */
        public static final long MEDIUM_FROM = 5_000;
        /** Train images above this are large. */
        public static final long LARGE_ABOVE = 50_000;

        public static Scale of(long trainImages) {
            return trainImages < MEDIUM_FROM ? SMALL : trainImages <= LARGE_ABOVE ? MEDIUM : LARGE;
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The starting point for a train split of {@code trainImages} images. */
    public static FinetuneRecipe forTrainImages(long trainImages) {
        return switch (Scale.of(trainImages)) {
            case SMALL -> new FinetuneRecipe(Scale.SMALL, 16, 5e-4, 0.10, 0.05, 0.1, "light", false, false);
            case MEDIUM -> new FinetuneRecipe(Scale.MEDIUM, 32, 1e-4, 0.05, 0.01, 0.2, "moderate", true, true);
            case LARGE -> new FinetuneRecipe(Scale.LARGE, 64, 3e-4, 0.03, 0.001, 0.1, "moderate", true, true);
        };
    }

    /** Warmup epochs for a run of {@code epochs}: the share rounded, at least 1 and below {@code epochs}. */
    public int warmupEpochs(int epochs) {
        return (int) Math.max(0, Math.min(epochs - 1, Math.max(1, Math.round(warmupShare * epochs))));
    }

    /** The size class and its bounds, for the printed line. */
    public String describe(long trainImages) {
        String bounds = switch (scale) {
            case SMALL -> "< " + Scale.MEDIUM_FROM;
            case MEDIUM -> Scale.MEDIUM_FROM + " to " + Scale.LARGE_ABOVE;
            case LARGE -> "> " + Scale.LARGE_ABOVE;
        };
        return scale + " dataset (" + trainImages + " train images, " + bounds + ")";
    }
}
