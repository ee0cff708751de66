package dev.sparkvit.cli;

import dev.sparkvit.config.YamlConfig;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The options of every YAML-configured command: the file and its overrides. */
final class ConfigOptions {
    @Option(names = "--config", required = true, description = "YAML config (see conf/; local, hdfs://, s3a://).")
    String config;

    @Option(names = "--set", description = "Override a config key, e.g. --set training.epochs=5 (repeatable).")
    List<String> overrides = new ArrayList<>();

    /** The config with the {@code --set} overrides, then {@code more} applied. */
    YamlConfig load(List<String> more) {
        List<String> all = new ArrayList<>(overrides);
        all.addAll(more);
        return YamlConfig.load(config).with(all);
    }
}
