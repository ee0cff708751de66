package dev.sparkvit.jobs.train;

import dev.sparkvit.config.ConfigException;
import dev.sparkvit.config.ConfigSection;
import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.model.vit.VitPresets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks of the keys every training config reads the same way (pretraining and fine-tuning), for the declarations in
 * {@link TrainingKeys}, and the messages about them once the job runs.
 */
public final class TrainingConfig {
    private TrainingConfig() {
    }

    /**
     * {@code data.dataset}: required; a local path must be an existing folder; a remote one ({@code hdfs://},
     * {@code s3a://}) is kept as written and checked when Spark reads it.
     */
    public static String dataset(YamlConfig yaml, ConfigSection data) {
        String dataset = data.location("dataset", null);
        Path local = dev.sparkvit.storage.Locations.local(dataset);
        if (local != null && !Files.isDirectory(local)) {
            throw new ConfigException(yaml.file() + ": " + data.describe("dataset")
                    + " is not a folder: run sparkvit ingest first, or fix the path");
        }
        return dataset;
    }

    /**
     * A local {@code data.dataset} must be a dataset (a manifest.json written by ingest) that counts training images:
     * checked by the pretrain and finetune commands before Spark starts, so that a raw image folder or an empty
     * dataset is one line naming the key. (The readers leave it out: retrain reads its fine-tuning config before its
     * first ingest has written the dataset.)
     */
    public static void requireTrainingImages(YamlConfig yaml, String dataset) {
        ConfigSection data = yaml.root().section("data");
        String problem = dev.sparkvit.data.ingest.StoredImages.datasetProblem(dataset);
        if (problem != null) {
            throw new ConfigException(yaml.file() + ": " + data.describe("dataset") + " " + problem);
        }
        dev.sparkvit.data.ingest.Manifest manifest;
        try {
            manifest = dev.sparkvit.data.ingest.StoredImages.localManifest("dataset", dataset);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(yaml.file() + ": " + data.describe("dataset") + ": " + e.getMessage());
        }
        if (manifest != null && dev.sparkvit.data.ingest.StoredImages.count(manifest, "train") == 0) {
            throw new ConfigException(yaml.file() + ": " + data.describe("dataset") + " holds no training images "
                    + "(its manifest.json counts " + manifest.images() + " images, none in the train split)");
        }
    }

    /**
     * Optimiser steps of linear warmup: {@code warmupEpochs} epochs of {@code perEpoch} micro-batches, {@code k} per
     * step; 0 when 0 epochs are asked, at least 1 otherwise.
     *
     * @throws ConfigException naming training.warmup_epochs when the warmup would not end before the last step
     */
    public static long warmupSteps(String source, int warmupEpochs, long perEpoch, int k, long totalSteps) {
        if (warmupEpochs == 0) {
            return 0;
        }
        long steps = Math.max(1, warmupEpochs * perEpoch / k);
        if (steps >= totalSteps) {
            throw new ConfigException(source + ": training.warmup_epochs = " + warmupEpochs + " is " + steps
                    + " optimiser steps of the run's " + totalSteps + "; warmup must end before the last step: lower "
                    + "it or raise training.epochs");
        }
        return steps;
    }

    /**
     * The line printed when the model's image size ({@code data.img_size}, else the preset's) differs from the size
     * the dataset stores, or null when they are equal: the views are resized to the model's size. When the model
     * takes at least twice the stored size the line is a warning: every image is upscaled, which costs compute (the
     * tokens grow with the square of the side) and adds no detail.
     *
     * @return the line, and whether it is a warning
     */
    public static SizeNote imageSizeNote(String source, ModelChoice model, String dataset, int storedSize) {
        return imageSizeNote(source, model.imgSize() != null ? "data.img_size = " + model.imageSize()
                : "model.preset = " + model.preset() + " takes " + model.imageSize() + "-px images (data.img_size "
                        + "sets another)", model.imageSize(), dataset, storedSize);
    }

    /**
     * {@link #imageSizeNote(String, ModelChoice, String, int)} for a model of {@code size}-px images described by
     * {@code takes} (a pretrained encoder: the size it was trained for).
     */
    public static SizeNote imageSizeNote(String source, String takes, int size, String dataset, int storedSize) {
        if (size == storedSize) {
            return null;
        }
        if (storedSize * 2 <= size) {
            return new SizeNote(source + ": " + takes + ", but dataset " + dataset + " stores " + storedSize
                    + " px: every image is upscaled " + (size / storedSize) + "x, which costs compute and adds no "
                    + "detail (ingest with a larger --stored-size, set data.img_size: " + storedSize + " or choose a "
                    + "preset for " + storedSize + " px)", true);
        }
        return new SizeNote("image size: dataset " + dataset + " stores " + storedSize + "-px images; " + takes
                + ": images are resized to " + size + " px", false);
    }

    /** A line about the image size, and whether it is a warning. */
    public record SizeNote(String line, boolean warning) {
    }

    /**
     * {@code output_dir}: a local path must be a folder that can be created or written (checked before Spark), made
     * absolute; a remote one ({@code hdfs://}, {@code s3a://}) is kept as written (see
     * {@link dev.sparkvit.storage.RunFolder}).
     */
    public static String outputDir(YamlConfig yaml, ConfigSection root, String fallback) {
        String output = root.location("output_dir", fallback);
        String problem = dev.sparkvit.config.PathChecks.folderProblem(output);
        if (problem != null) {
            throw new ConfigException(yaml.file() + ": " + root.describe("output_dir") + " " + problem);
        }
        return dev.sparkvit.storage.Locations.absolute(output);
    }

    /** {@code model.preset}: one of the presets, vit_nano_patch4_32 by default. */
    public static String preset(ConfigSection model) {
        List<String> presets = new ArrayList<>();
        VitPresets.names().forEach(presets::add);
        return model.choice("preset", "vit_nano_patch4_32", presets.toArray(new String[0]));
    }

    /**
     * The optional {@code cluster} section: {@code executors} and {@code executor_cores}, given together, declare the
     * cluster the run is meant for so that batch sizes are checked against its model replicas (executors x cores)
     * before Spark starts. Returns that replica count, or 0 when the section is absent. The jobs check the real
     * replica count again once Spark is up.
     */
    public static int replicas(YamlConfig yaml, ConfigSection root) {
        ConfigSection cluster = root.section("cluster");
        boolean executors = cluster.has("executors");
        boolean cores = cluster.has("executor_cores");
        int count = cluster.integer("executors", 1, 1, 100_000) * cluster.integer("executor_cores", 1, 1, 4096);
        if (executors != cores) {
            String given = executors ? "executors" : "executor_cores";
            throw new ConfigException(yaml.file() + ": " + cluster.describe(given) + " is given without cluster."
                    + (executors ? "executor_cores" : "executors") + ": give both (the model replicas are "
                    + "executors x cores) or neither");
        }
        return executors ? count : 0;
    }

    /**
     * Rejects a per-step batch that the declared cluster's replicas cannot split evenly: {@code batch} is
     * {@code batchText}'s value, {@code replicas} what {@link #replicas} returned (0 = nothing declared).
     */
    public static void requireDivisible(YamlConfig yaml, ConfigSection root, int batch, String batchText,
            int replicas) {
        if (replicas > 0 && batch % replicas != 0) {
            ConfigSection cluster = root.section("cluster");
            throw new ConfigException(yaml.file() + ": " + batchText + " is not a multiple of the " + replicas
                    + " model replicas of " + cluster.describe("executors") + " x " + cluster.describe("executor_cores")
                    + "; change the batch size or the cluster shape");
        }
    }
}
