package dev.sparkvit.jobs.train;

import dev.sparkvit.config.ConfigException;
import dev.sparkvit.config.ConfigSection;
import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.model.vit.VitPresets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Keys every training config reads the same way (pretraining and fine-tuning). */
public final class TrainingConfig {
    private TrainingConfig() {
    }

    /** {@code data.dataset}: required; a local path must be an existing folder (remote ones are checked by Spark). */
    public static String dataset(YamlConfig yaml, ConfigSection data) {
        String dataset = data.path("dataset", null).toString();
        if (!dataset.contains("://") && !Files.isDirectory(Path.of(dataset))) {
            throw new ConfigException(yaml.file() + ": " + data.describe("dataset")
                    + " is not a folder: run sparkvit ingest first, or fix the path");
        }
        return dataset;
    }

    /** {@code model.preset}: one of the presets, vit_nano_patch4_32 by default. */
    public static String preset(ConfigSection model) {
        List<String> presets = new ArrayList<>();
        VitPresets.names().forEach(presets::add);
        return model.choice("preset", "vit_nano_patch4_32", presets.toArray(new String[0]));
    }
}
