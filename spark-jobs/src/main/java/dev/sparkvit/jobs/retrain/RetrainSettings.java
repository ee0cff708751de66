package dev.sparkvit.jobs.retrain;

import dev.sparkvit.config.ConfigException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A scheduled retraining run, validated; read from YAML by {@link RetrainConfig}.
 *
 * @param input image tree ingested incrementally at every run
 * @param dataset the dataset folder it feeds (created by the first run)
 * @param storedSize side of the stored images when the dataset is created
 * @param registry the model registry folder: a local path, or a URI on HDFS ({@link ModelRegistry#open})
 * @param finetuneConfig the fine-tuning YAML (its dataset and output_dir are set by the run): a local path or a URI
 * @param finetuneOverrides {@code key=value} overrides of the fine-tuning YAML
 * @param warmStart "production" (the production model's encoder when there is one, else the fine-tuning config's
 *     SSL checkpoint) or "ssl" (always the SSL checkpoint)
 * @param metric "accuracy" or "macro_f1"
 * @param variant the evaluated variant the gate reads: live, ema, live+tta or ema+tta
 * @param split the held-out split both models are scored on
 * @param minImprovement how much the candidate must beat production by to be promoted
 * @param workDir where candidate runs train (one folder per run key: a killed run resumes)
 * @param source where the settings came from, for messages
 */
public record RetrainSettings(String input, String dataset, int storedSize, String registry, String finetuneConfig,
        List<String> finetuneOverrides, String warmStart, String metric, String variant, String split,
        double minImprovement, Path workDir, String source) {

    public RetrainSettings {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(dataset, "dataset");
        finetuneOverrides = List.copyOf(finetuneOverrides);
        ConfigException.require(List.of("production", "ssl").contains(warmStart), "warm_start", warmStart,
                "production or ssl", source);
        ConfigException.require(List.of("accuracy", "macro_f1").contains(metric), "gate.metric", metric,
                "accuracy or macro_f1", source);
        ConfigException.require(List.of("live", "ema", "live+tta", "ema+tta").contains(variant), "gate.variant",
                variant, "live, ema, live+tta or ema+tta", source);
        ConfigException.require(List.of("train", "val", "test").contains(split), "gate.split", split,
                "train, val or test", source);
        ConfigException.require(minImprovement > -1 && minImprovement < 1, "gate.min_improvement", minImprovement,
                "in (-1, 1)", source);
    }
}
