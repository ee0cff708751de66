package dev.sparkvit.jobs.pretrain;

import static dev.sparkvit.jobs.pretrain.PretrainKeys.BATCH_SIZE;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.EPOCHS;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.REPLICAS;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.WARMUP_EPOCHS;

import dev.sparkvit.config.ConfigException;
import dev.sparkvit.config.SettingValues;
import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.jobs.train.TrainingConfig;

/**
 * Reads a pretraining YAML file in the shape of the training guide's {@code configs/pretrain.yaml}: sections
 * {@code data}, {@code model} and {@code training}, then {@code temperature}, {@code projection_dim} and
 * {@code output_dir} (see conf/pretrain.yaml for every key and its default; {@link PretrainKeys} declares them), and
 * the optional {@code cluster} ({@code executors}, {@code executor_cores}) the batch size must divide into. Unknown
 * keys, wrong types and out-of-range values are errors naming the file, line and key; so are the checks across keys.
 */
public final class PretrainConfig {
    private PretrainConfig() {
    }

    public static PretrainSettings read(YamlConfig yaml) {
        SettingValues values = PretrainKeys.LIST.read(yaml);
        if (values.get(WARMUP_EPOCHS) >= values.get(EPOCHS)) {
            throw new ConfigException(yaml.file() + ": " + values.describe(WARMUP_EPOCHS)
                    + " must be less than training.epochs = " + values.get(EPOCHS));
        }
        TrainingConfig.requireDivisible(yaml, yaml.root(), values.get(BATCH_SIZE), values.describe(BATCH_SIZE),
                values.get(REPLICAS));
        return new PretrainSettings(values);
    }
}
