package dev.sparkvit.jobs.finetune;

import static dev.sparkvit.jobs.finetune.FinetuneKeys.BATCH_SIZE;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.DROP_PATH_RATE;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.EPOCHS;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.GRADIENT_ACCUMULATION_STEPS;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.LEARNING_RATE;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.REPLICAS;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.SEVERITY;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.USE_CUTMIX;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.USE_MIXUP;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.WARMUP_EPOCHS;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.WEIGHT_DECAY;

import dev.sparkvit.config.ConfigException;
import dev.sparkvit.config.Setting;
import dev.sparkvit.config.SettingValues;
import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.jobs.train.TrainingConfig;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Reads a fine-tuning YAML file in the shape of the training guide's {@code configs/finetune.yaml}: sections
 * {@code data}, {@code model}, {@code training}, {@code augmentations} and {@code evaluation}, then
 * {@code output_dir} (conf/finetune.yaml shows every key with its default; {@link FinetuneKeys} declares them), and
 * the optional {@code cluster} ({@code executors}, {@code executor_cores}) the micro-batch must divide into. Unknown
 * keys, wrong types, out-of-range values, missing paths and the checks across keys are errors naming the file, line
 * and key.
 */
public final class FinetuneConfig {
    private FinetuneConfig() {
    }

    public static FinetuneSettings read(YamlConfig yaml) {
        SettingValues read = FinetuneKeys.LIST.read(yaml);
        FinetuneRecipe small = FinetuneRecipe.forTrainImages(0); // auto keys hold its values until resolved
        Set<String> auto = new LinkedHashSet<>();
        int epochs = read.get(EPOCHS);
        int accumulation = read.get(GRADIENT_ACCUMULATION_STEPS);
        Integer batchSet = read.get(BATCH_SIZE);
        Integer warmupSet = read.get(WARMUP_EPOCHS);
        SettingValues values = read;
        values = orAuto(values, DROP_PATH_RATE, small.dropPathRate(), auto);
        // until resolved, an auto batch is the small recipe's rounded up to the accumulation steps
        values = orAuto(values, BATCH_SIZE, (small.batchSize() + accumulation - 1) / accumulation * accumulation,
                auto);
        values = orAuto(values, LEARNING_RATE, small.learningRate(), auto);
        values = orAuto(values, WEIGHT_DECAY, small.weightDecay(), auto);
        values = orAuto(values, WARMUP_EPOCHS, small.warmupEpochs(epochs), auto);
        values = orAuto(values, USE_MIXUP, small.mixup(), auto);
        values = orAuto(values, USE_CUTMIX, small.cutmix(), auto);
        if (values.get(SEVERITY).equals("auto")) {
            auto.add(SEVERITY.path());
            values = values.with(SEVERITY, small.severity());
        }
        if (warmupSet != null && warmupSet >= epochs) {
            throw new ConfigException(yaml.file() + ": " + read.describe(WARMUP_EPOCHS)
                    + " must be less than training.epochs = " + epochs);
        }
        if (batchSet != null && batchSet % accumulation != 0) {
            throw new ConfigException(yaml.file() + ": " + read.describe(BATCH_SIZE) + " is not a multiple of "
                    + "training.gradient_accumulation_steps = " + accumulation);
        }
        if (batchSet != null) { // an auto batch is rounded up to the replicas when resolved
            TrainingConfig.requireDivisible(yaml, yaml.root(), batchSet / accumulation, read.describe(BATCH_SIZE)
                    + (accumulation > 1 ? " / " + read.describe(GRADIENT_ACCUMULATION_STEPS) + " = "
                    + batchSet / accumulation : ""), read.get(REPLICAS));
        }
        return new FinetuneSettings(values, auto);
    }

    /** {@code values}, or (the key read as auto: null) them with the recipe's provisional value, noting the key. */
    private static <T> SettingValues orAuto(SettingValues values, Setting<T> key, T provisional, Set<String> auto) {
        if (values.get(key) != null) {
            return values;
        }
        auto.add(key.path());
        return values.with(key, provisional);
    }
}
