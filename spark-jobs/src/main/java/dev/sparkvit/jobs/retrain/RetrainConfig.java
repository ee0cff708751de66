package dev.sparkvit.jobs.retrain;

import dev.sparkvit.jobs.finetune.FinetuneKeys;
import dev.sparkvit.config.ConfigException;
import dev.sparkvit.config.ConfigSection;
import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.jobs.finetune.FinetuneConfig;
import dev.sparkvit.jobs.finetune.FinetuneSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a retraining YAML (conf/retrain.yaml shows every key): where images arrive, the dataset and registry, the
 * fine-tuning config with overrides, the warm start, and the promotion gate. Paths in it are relative to the
 * working directory, as in the other configs.
 */
public final class RetrainConfig {
    private RetrainConfig() {
    }

    public static RetrainSettings read(YamlConfig yaml) {
        ConfigSection root = yaml.root();
        String input = root.location("input", null);
        Path localInput = dev.sparkvit.storage.Locations.local(input);
        if (localInput != null && !Files.isDirectory(localInput)) {
            throw new ConfigException(yaml.file() + ": " + root.describe("input") + " is not a folder of images");
        }
        String dataset = root.location("dataset", null, "local, hdfs://, viewfs://, s3a://");
        // written under the dataset lock: s3a:// by write-settle-verify, no other object store (FolderLock)
        dev.sparkvit.lock.FolderLock.checkLocation(dev.sparkvit.lock.LockSubject.DATASET, dataset,
                yaml.file() + ": dataset");
        int storedSize = root.integer("stored_size", 32, 8, 4096);
        String registry = dev.sparkvit.storage.Locations.absolute(root.location("registry", null,
                "local, hdfs://, viewfs:// (not S3)"));
        ModelRegistry.checkLocation(registry, yaml.file() + ": registry"); // no S3: see ModelRegistry
        String finetune = dev.sparkvit.storage.Locations.absolute(root.location("finetune_config",
                "conf/finetune.yaml"));
        Path localFinetune = dev.sparkvit.storage.Locations.local(finetune);
        if (localFinetune != null && !Files.isRegularFile(localFinetune)) {
            throw new ConfigException(yaml.file() + ": " + root.describe("finetune_config") + " is not a file");
        }
        List<String> overrides = new ArrayList<>(root.strings("finetune_set"));
        for (String override : overrides) {
            String key = override.contains("=") ? override.substring(0, override.indexOf('=')).trim() : "";
            if (key.isEmpty() || key.equals("data.dataset") || key.equals("output_dir")) {
                throw new ConfigException(yaml.file() + ": finetune_set entry '" + override + "' is invalid: "
                        + "expected key=value, and data.dataset and output_dir are set by retrain");
            }
        }
        String warmStart = root.choice("warm_start", "production", "production", "ssl");
        ConfigSection gate = root.section("gate");
        String metric = gate.choice("metric", "accuracy", "accuracy", "macro_f1");
        String variant = gate.choice("variant", "ema+tta", "live", "ema", "live+tta", "ema+tta");
        String split = gate.choice("split", "test", "train", "val", "test");
        double margin = gate.number("min_improvement", 0.01, -0.999, false, 0.999);
        Path work = root.path("work_dir", "out/retrain/work").toAbsolutePath();
        root.finish();
        // the fine-tuning config is checked now too, before Spark starts (with the input folder standing in for
        // the dataset, which the first run has yet to create)
        List<String> check = new ArrayList<>(overrides);
        check.add("data.dataset=" + input);
        check.add("output_dir=" + work);
        FinetuneSettings checked;
        try {
            checked = FinetuneConfig.read(YamlConfig.load(finetune).with(check));
        } catch (ConfigException e) {
            throw new ConfigException(yaml.file() + ": finetune_config " + finetune + " with finetune_set " + overrides
                    + ": " + e.getMessage());
        }
        if (variant.startsWith("ema") && !checked.get(FinetuneKeys.EMA).enabled()) {
            throw new ConfigException(yaml.file() + ": " + gate.describe("variant") + " needs training.ema.enabled in "
                    + finetune + " (or finetune_set)");
        }
        if (variant.endsWith("+tta") && checked.get(FinetuneKeys.TTA).equals(List.of("identity"))) {
            throw new ConfigException(yaml.file() + ": " + gate.describe("variant") + " needs training.use_tta in "
                    + finetune + " (or finetune_set)");
        }
        return new RetrainSettings(input, dataset, storedSize, registry, finetune, overrides, warmStart, metric,
                variant, split, margin, work, yaml.file());
    }
}
