package dev.sparkvit.jobs.finetune;

import dev.sparkvit.jobs.train.RunState;
import dev.sparkvit.checkpoint.CheckpointStore;
import dev.sparkvit.config.ConfigException;
import dev.sparkvit.engine.NonFinitePolicy;
import dev.sparkvit.jobs.pretrain.PretrainSettings;
import dev.sparkvit.jobs.train.ModelChoice;
import dev.sparkvit.jobs.train.RestartPolicy;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A fine-tuning run (the training guide's phase 2), validated; read from YAML by {@link FinetuneConfig}.
 *
 * @param dataset ingested, labelled dataset folder
 * @param labelFraction share of the train split whose labels are used (a fixed subset chosen by image id): the
 *     semi-supervised setting of SimCLR's evaluation; 1 = all
 * @param outputDir checkpoints, TensorBoard events, curves, weights and the run's history: an absolute local path or
 *     a Hadoop URI
 * @param model model preset and architecture choices
 * @param sslCheckpoint pretrained encoder (weights file, checkpoint or checkpoints folder), or null to train from
 *     scratch (the baseline)
 * @param dropPathRate stochastic depth of the last block (linear from 0 at the first)
 * @param headInit "linear_probe" (LP-FT: the head starts as a logistic regression fit on the frozen encoder's
 *     features of the train split) or "random" (timm's initialisation)
 * @param epochs passes over the train split
 * @param batchSize images per optimiser step (all micro-batches together), a multiple of replicas x accumulation
 * @param accumulationSteps micro-batches per optimiser step
 * @param learningRate peak learning rate of the head, after warmup; cosine to 0
 * @param layerDecay layer-wise learning-rate decay: block i gets {@code layerDecay^(depth - i)}, the stem
 *     {@code layerDecay^(depth + 1)}, final norm and head 1
 * @param weightDecay decoupled weight decay outside the no-decay set
 * @param warmupEpochs linear warmup, in epochs
 * @param clipGradNorm global L2 norm of the gradient (of each micro-batch under accumulation); 0 = off
 * @param nonFinite stop at, or skip, an iteration whose loss or gradient is not finite (may change on resume)
 * @param restarts restarts from the newest checkpoint after a lost executor (may change on resume)
 * @param severity augmentation severity: light, moderate or aggressive
 * @param mixup mixup and cutmix
 * @param loss the loss and its class weighting
 * @param ema the weight average and its decay
 * @param freezeOut FreezeOut knobs
 * @param tta test-time augmentation views for the evaluations of the run
 * @param checkpointEvery iterations between checkpoints; 0 = every epoch
 * @param keepCheckpoints newest checkpoints kept
 * @param onCorrupt what {@code --resume} does when the newest checkpoint is corrupt
 * @param seed the one seed of the head, augmentation, mixing and order
 * @param source where the settings came from, for messages
 * @param auto the keys of {@link #AUTO_KEYS} the config leaves to the recipe; until {@link #resolved} their fields
 *     hold the small recipe's values
 * @param recipe the recipe the auto keys were resolved with, or null before {@link #resolved}
 * @param input where the epochs read the train split from ({@code data.input}, {@code data.shuffle_buffer})
 */
public record FinetuneSettings(String dataset, double labelFraction, String outputDir, ModelChoice model,
        String sslCheckpoint, double dropPathRate, String headInit, int epochs, int batchSize, int accumulationSteps,
        double learningRate, double layerDecay, double weightDecay, int warmupEpochs, double clipGradNorm,
        NonFinitePolicy nonFinite, RestartPolicy restarts, String severity, Mixing mixup, Loss loss, Ema ema, PretrainSettings.FreezeOut freezeOut,
        List<String> tta, int checkpointEvery, int keepCheckpoints, CheckpointStore.OnCorrupt onCorrupt, long seed,
        String source, Set<String> auto, FinetuneRecipe recipe, dev.sparkvit.jobs.train.TrainingInput input) {

    /** Keys that may be {@code auto}: chosen by the train split's size ({@link FinetuneRecipe}). */
    public static final List<String> AUTO_KEYS = List.of("training.batch_size", "training.learning_rate",
            "training.warmup_epochs", "training.weight_decay", "model.drop_path_rate", "augmentations.severity",
            "training.use_mixup", "training.use_cutmix");

    /** Mixup and cutmix of each micro-batch; when both are on, each batch uses one of them with equal chance. */
    public record Mixing(boolean mixup, double mixupAlpha, boolean cutmix, double cutmixAlpha)
            implements java.io.Serializable {
        public static final Mixing OFF = new Mixing(false, 0.8, false, 1.0);

        public boolean enabled() {
            return mixup || cutmix;
        }
    }

    /**
     * The loss: "ce" (cross-entropy with label smoothing), "focal" or "combined" (0.5 focal + 0.5 smoothed CE);
     * class weights ("none" or "balanced") weight the cross-entropy, focal alpha ("none" or "balanced") the focal term.
     */
    public record Loss(String type, double labelSmoothing, double focalGamma, String focalAlpha, String classWeights) {
    }

    /** The exponential moving average of the weights, evaluated beside the live ones. */
    public record Ema(boolean enabled, double decay, boolean warmup) {
    }

    /** The test-time augmentation views. */
    public static final List<String> TTA_VIEWS = List.of("identity", "flip", "crops");

    public FinetuneSettings {
        auto = Set.copyOf(auto);
        require(AUTO_KEYS.containsAll(auto), "auto", auto, "keys of " + AUTO_KEYS, source);
        Objects.requireNonNull(dataset, "dataset");
        Objects.requireNonNull(outputDir, "outputDir");
        Objects.requireNonNull(onCorrupt, "onCorrupt");
        tta = List.copyOf(tta);
        Objects.requireNonNull(nonFinite, "nonFinite");
        Objects.requireNonNull(restarts, "restarts");
        require(labelFraction > 0 && labelFraction <= 1, "data.label_fraction", labelFraction, "in (0, 1]", source);
        require(epochs >= 1, "training.epochs", epochs, "at least 1", source);
        require(accumulationSteps >= 1, "training.gradient_accumulation_steps", accumulationSteps, "at least 1",
                source);
        require(batchSize >= 2 && batchSize % accumulationSteps == 0, "training.batch_size", batchSize,
                "at least 2 and a multiple of training.gradient_accumulation_steps = " + accumulationSteps, source);
        require(learningRate > 0, "training.learning_rate", learningRate, "positive", source);
        require(layerDecay > 0 && layerDecay <= 1, "training.layer_decay", layerDecay, "in (0, 1]", source);
        require(weightDecay >= 0, "training.weight_decay", weightDecay, "non-negative", source);
        require(warmupEpochs >= 0 && warmupEpochs < epochs, "training.warmup_epochs", warmupEpochs,
                "0 to training.epochs - 1 = " + (epochs - 1), source);
        require(clipGradNorm >= 0, "training.clip_grad_norm", clipGradNorm, "0 (off) or positive", source);
        require(dropPathRate >= 0 && dropPathRate < 1, "model.drop_path_rate", dropPathRate, "in [0, 1)", source);
        require(List.of("random", "linear_probe").contains(headInit), "model.head_init", headInit,
                "random or linear_probe", source);
        require(List.of("light", "moderate", "aggressive").contains(severity), "augmentations.severity", severity,
                "light, moderate or aggressive", source);
        require(!mixup.mixup() || mixup.mixupAlpha() > 0, "training.mixup_alpha", mixup.mixupAlpha(), "positive",
                source);
        require(!mixup.cutmix() || mixup.cutmixAlpha() > 0, "training.cutmix_alpha", mixup.cutmixAlpha(), "positive",
                source);
        require(List.of("ce", "focal", "combined").contains(loss.type()), "training.loss_type", loss.type(),
                "ce, focal or combined", source);
        require(loss.labelSmoothing() >= 0 && loss.labelSmoothing() < 1, "training.label_smoothing",
                loss.labelSmoothing(), "in [0, 1)", source);
        require(loss.focalGamma() >= 0, "training.focal_gamma", loss.focalGamma(), "non-negative", source);
        require(List.of("none", "balanced").contains(loss.focalAlpha()), "training.focal_alpha", loss.focalAlpha(),
                "none or balanced", source);
        require(List.of("none", "balanced").contains(loss.classWeights()), "training.class_weights",
                loss.classWeights(), "none or balanced", source);
        require(ema.decay() >= 0 && ema.decay() < 1, "training.ema.decay", ema.decay(), "in [0, 1)", source);
        require(!freezeOut.enabled() || accumulationSteps == 1, "training.freezeout.enabled", true,
                "false with training.gradient_accumulation_steps > 1 (FreezeOut counts optimiser steps per "
                        + "forward)", source);
        for (String view : tta) {
            require(TTA_VIEWS.contains(view), "evaluation.tta_views", view, "one of " + TTA_VIEWS, source);
        }
        require(checkpointEvery >= 0, "training.checkpoint.every_iterations", checkpointEvery, "0 or more", source);
        require(keepCheckpoints >= 1, "training.checkpoint.keep", keepCheckpoints, "at least 1", source);
    }

    private static void require(boolean ok, String key, Object value, String expected, String source) {
        ConfigException.require(ok, key, value, expected, source);
    }

    /** Images per micro-batch (one iteration; an optimiser step takes accumulation_steps of them). */
    public int microBatch() {
        return batchSize / accumulationSteps;
    }

    /** Trains from scratch (no pretrained encoder). */
    public boolean fromScratch() {
        return sslCheckpoint == null;
    }

    /**
     * These settings with every auto key set by the recipe for {@code trainImages} train images; an auto batch size
     * is rounded up to a multiple of {@code replicas} x gradient accumulation steps.
     */
    public FinetuneSettings resolved(long trainImages, int replicas) {
        FinetuneRecipe r = FinetuneRecipe.forTrainImages(trainImages);
        int unit = replicas * accumulationSteps;
        int batch = auto.contains("training.batch_size") ? (r.batchSize() + unit - 1) / unit * unit : batchSize;
        Mixing mixing = new Mixing(auto.contains("training.use_mixup") ? r.mixup() : mixup.mixup(),
                mixup.mixupAlpha(), auto.contains("training.use_cutmix") ? r.cutmix() : mixup.cutmix(),
                mixup.cutmixAlpha());
        return new FinetuneSettings(dataset, labelFraction, outputDir, model, sslCheckpoint,
                auto.contains("model.drop_path_rate") ? r.dropPathRate() : dropPathRate, headInit, epochs, batch,
                accumulationSteps, auto.contains("training.learning_rate") ? r.learningRate() : learningRate,
                layerDecay, auto.contains("training.weight_decay") ? r.weightDecay() : weightDecay,
                auto.contains("training.warmup_epochs") ? r.warmupEpochs(epochs) : warmupEpochs, clipGradNorm,
                nonFinite, restarts, auto.contains("augmentations.severity") ? r.severity() : severity, mixing, loss,
                ema, freezeOut, tta, checkpointEvery, keepCheckpoints, onCorrupt, seed, source, auto, r, input);
    }

    /** Train images the run uses: the manifest's train split times {@code data.label_fraction}, rounded. */
    public long trainImages(dev.sparkvit.data.ingest.Manifest manifest) {
        return Math.round(manifest.counts().values().stream().mapToLong(splits -> splits.getOrDefault("train", 0L))
                .sum() * labelFraction);
    }

    /** {@link #resolved} for the train split {@code manifest} describes. */
    public FinetuneSettings resolvedFor(dev.sparkvit.data.ingest.Manifest manifest, int replicas) {
        return resolved(trainImages(manifest), replicas);
    }

    /** The resolved recipe as one line: each value, and which were set in the config. */
    public String describeRecipe(long trainImages) {
        String values = String.format(java.util.Locale.ROOT, "batch %d%s, learning rate %s%s, warmup %d epochs%s, "
                + "weight decay %s%s, drop path %s%s, %s augmentation%s, mixup %s%s, cutmix %s%s", batchSize,
                set("training.batch_size"), learningRate, set("training.learning_rate"), warmupEpochs,
                set("training.warmup_epochs"), weightDecay, set("training.weight_decay"), dropPathRate,
                set("model.drop_path_rate"), severity, set("augmentations.severity"), mixup.mixup() ? "on" : "off",
                set("training.use_mixup"), mixup.cutmix() ? "on" : "off", set("training.use_cutmix"));
        return "recipe for a " + (recipe == null ? "dataset" : recipe.describe(trainImages)) + ": " + values;
    }

    private String set(String key) {
        return auto.contains(key) ? "" : " (set)";
    }

    /** The settings that must not change on resume, as text (stored in checkpoints and compared). */
    public Map<String, String> fingerprint() {
        if (!auto.isEmpty() && recipe == null) {
            throw new IllegalStateException("fine-tuning settings with auto keys " + auto + " are not resolved yet");
        }
        Map<String, String> run = new LinkedHashMap<>();
        run.put("dataset", dataset);
        run.put("label_fraction", String.valueOf(labelFraction));
        run.putAll(model.fingerprint());
        run.put("ssl_pretrained_path", String.valueOf(sslCheckpoint));
        run.put("drop_path_rate", String.valueOf(dropPathRate));
        run.put("head_init", headInit);
        run.put("epochs", String.valueOf(epochs));
        run.put("batch_size", String.valueOf(batchSize));
        run.put("gradient_accumulation_steps", String.valueOf(accumulationSteps));
        run.put("learning_rate", String.valueOf(learningRate));
        run.put("layer_decay", String.valueOf(layerDecay));
        run.put("weight_decay", String.valueOf(weightDecay));
        run.put("warmup_epochs", String.valueOf(warmupEpochs));
        run.put("clip_grad_norm", String.valueOf(clipGradNorm));
        run.put("severity", severity);
        run.put("mixing", mixup.toString());
        run.put("loss", loss.toString());
        run.put("ema", ema.toString());
        run.put("freezeout", freezeOut.toString());
        run.put("seed", String.valueOf(seed));
        if (recipe != null) {
            run.put("recipe", recipe.scale().toString());
        }
        run.put("engine", RunState.ENGINE);
        run.putAll(input.fingerprint());
        return run;
    }

    /** The model preset's name. */
    public String preset() {
        return model.preset();
    }
}
