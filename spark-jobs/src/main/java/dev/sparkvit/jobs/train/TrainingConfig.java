package dev.sparkvit.jobs.train;

import dev.sparkvit.checkpoint.CheckpointStore;
import dev.sparkvit.config.ConfigException;
import dev.sparkvit.config.ConfigSection;
import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.engine.NonFinitePolicy;
import dev.sparkvit.model.vit.VitPresets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Keys every training config reads the same way (pretraining and fine-tuning). */
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

    /**
     * {@code training.checkpoint.on_corrupt}: what {@code --resume} does when the newest checkpoint is corrupt:
     * {@code fail} (default: stop and name the file) or {@code previous} (keep it as corrupt-iter-N, warn, and resume
     * from the newest valid one).
     */
    public static CheckpointStore.OnCorrupt onCorrupt(ConfigSection checkpoint) {
        return CheckpointStore.OnCorrupt.valueOf(checkpoint.choice("on_corrupt", "fail", "fail", "previous")
                .toUpperCase(java.util.Locale.ROOT));
    }

    /**
     * {@code training.non_finite} (stop, the default, or skip) and {@code training.max_skipped_steps} (1 to 10000,
     * default 10; read with stop too, so that a typo is caught either way): what an iteration whose loss or averaged
     * gradient is NaN or infinite does.
     */
    public static NonFinitePolicy nonFinite(ConfigSection training) {
        String mode = training.choice("non_finite", "stop", "stop", "skip");
        int maxSkipped = training.integer("max_skipped_steps", 10, 1, 10_000);
        return mode.equals("skip") ? NonFinitePolicy.skip(maxSkipped) : NonFinitePolicy.stop();
    }

    /**
     * The {@code training.ema} section both jobs read (issue 23: one shape for both): its keys {@code decay} and
     * {@code warmup} are read by {@link #emaDecay} and {@link #emaWarmup}; fine-tuning adds {@code enabled}. The
     * flat spellings fine-tuning used before ({@code training.ema_decay}, {@code training.ema_warmup}) are one line
     * naming the new key.
     */
    public static ConfigSection emaSection(ConfigSection training) {
        training.renamed("ema_decay", "training.ema.decay");
        training.renamed("ema_warmup", "training.ema.warmup");
        return training.section("ema");
    }

    /** {@code training.ema.decay}: the decay of the weight average, in [0, 1) ({@code fallback} by default). */
    public static double emaDecay(ConfigSection ema, double fallback) {
        return ema.number("decay", fallback, 0, false, 0.9999999);
    }

    /** {@code training.ema.warmup} (default true): timm's warmup of the decay, min(decay, (1 + k) / (10 + k)). */
    public static boolean emaWarmup(ConfigSection ema) {
        return ema.flag("warmup", true);
    }

    /** {@code training.engine} values: DistriOptimizer (the default), or issue 21's barrier-execution engine. */
    public static final String DISTRI = "distri";
    public static final String BARRIER = "barrier";

    /**
     * {@code training.engine} (distri, the default, or barrier): the engine both training jobs train on; with
     * barrier, {@link BarrierTraining} runs the loop.
     */
    public static String engine(ConfigSection training) {
        return training.choice("engine", DISTRI, DISTRI, BARRIER);
    }

    /**
     * {@code training.max_restarts} (0 to 100, default 2; 0 = a lost executor ends the run as before) and
     * {@code training.restart_wait_seconds} (1 to 86400, default 300): how often a run whose executor was lost
     * restarts from its newest checkpoint in the same driver, and how long each restart waits for the executors.
     */
    public static RestartPolicy restarts(ConfigSection training) {
        return new RestartPolicy(training.integer("max_restarts", 2, 0, 100),
                training.integer("restart_wait_seconds", 300, 1, 86_400));
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
