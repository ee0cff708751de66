package dev.sparkvit.jobs.finetune;

import static dev.sparkvit.jobs.finetune.FinetuneKeys.BATCH_SIZE;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.DROP_PATH_RATE;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.EPOCHS;
import static dev.sparkvit.jobs.train.TrainingKeys.FREEZEOUT_ENABLED;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.GRADIENT_ACCUMULATION_STEPS;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.LABEL_FRACTION;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.LEARNING_RATE;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.MIXING;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.RECIPE;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.SEVERITY;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.SSL_PRETRAINED_PATH;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.USE_CUTMIX;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.USE_MIXUP;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.WARMUP_EPOCHS;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.WEIGHT_DECAY;

import dev.sparkvit.config.ConfigException;
import dev.sparkvit.config.Setting;
import dev.sparkvit.config.SettingValues;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A fine-tuning run (the training guide's phase 2), validated: the values of {@link FinetuneKeys}' settings, read
 * from YAML by {@link FinetuneConfig}. Code asks for a value with {@code get(FinetuneKeys.X)}. Until
 * {@link #resolved}, the keys of {@link #auto} hold the small recipe's values.
 */
public final class FinetuneSettings {
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

    private final SettingValues values;
    private final Set<String> auto;

    /**
     * Checks what no single key's range can: the batch against the accumulation steps, the warmup against the
     * epochs, FreezeOut against accumulation ({@code auto}: the keys of {@link #AUTO_KEYS} left to the recipe).
     */
    FinetuneSettings(SettingValues values, Set<String> auto) {
        this.values = values;
        this.auto = Set.copyOf(auto);
        String source = values.source();
        require(AUTO_KEYS.containsAll(auto), "auto", auto, "keys of " + AUTO_KEYS, source);
        int accumulation = get(GRADIENT_ACCUMULATION_STEPS);
        int batch = get(BATCH_SIZE);
        require(batch >= 2 && batch % accumulation == 0, "training.batch_size", batch,
                "at least 2 and a multiple of training.gradient_accumulation_steps = " + accumulation, source);
        int epochs = get(EPOCHS);
        int warmup = get(WARMUP_EPOCHS);
        require(warmup >= 0 && warmup < epochs, "training.warmup_epochs", warmup,
                "0 to training.epochs - 1 = " + (epochs - 1), source);
        require(!get(FREEZEOUT_ENABLED) || accumulation == 1, "training.freezeout.enabled", true,
                "false with training.gradient_accumulation_steps > 1 (FreezeOut counts optimiser steps per "
                        + "forward)", source);
    }

    private static void require(boolean ok, String key, Object value, String expected, String source) {
        ConfigException.require(ok, key, value, expected, source);
    }

    /** The value of {@code setting}, one of {@link FinetuneKeys}'. */
    public <T> T get(Setting<T> setting) {
        return values.get(setting);
    }

    /** Where the settings came from (the job file), for messages. */
    public String source() {
        return values.source();
    }

    /** The keys of {@link #AUTO_KEYS} the config leaves to the recipe. */
    public Set<String> auto() {
        return auto;
    }

    /** Images per micro-batch (one iteration; an optimiser step takes accumulation_steps of them). */
    public int microBatch() {
        return get(BATCH_SIZE) / get(GRADIENT_ACCUMULATION_STEPS);
    }

    /** Trains from scratch (no pretrained encoder). */
    public boolean fromScratch() {
        return get(SSL_PRETRAINED_PATH) == null;
    }

    /**
     * These settings with every auto key set by the recipe for {@code trainImages} train images; an auto batch size
     * is rounded up to a multiple of {@code replicas} x gradient accumulation steps.
     */
    public FinetuneSettings resolved(long trainImages, int replicas) {
        FinetuneRecipe r = FinetuneRecipe.forTrainImages(trainImages);
        int unit = replicas * get(GRADIENT_ACCUMULATION_STEPS);
        SettingValues v = values.with(RECIPE, r);
        v = resolve(v, BATCH_SIZE, (r.batchSize() + unit - 1) / unit * unit);
        v = resolve(v, USE_MIXUP, r.mixup());
        v = resolve(v, USE_CUTMIX, r.cutmix());
        v = resolve(v, DROP_PATH_RATE, r.dropPathRate());
        v = resolve(v, LEARNING_RATE, r.learningRate());
        v = resolve(v, WEIGHT_DECAY, r.weightDecay());
        v = resolve(v, WARMUP_EPOCHS, r.warmupEpochs(get(EPOCHS)));
        v = resolve(v, SEVERITY, r.severity());
        return new FinetuneSettings(v, auto);
    }

    /** {@code values} with {@code key} set to the recipe's {@code value} when the config left it auto. */
    private <T> SettingValues resolve(SettingValues values, Setting<T> key, T value) {
        return auto.contains(key.path()) ? values.with(key, value) : values;
    }

    /** Train images the run uses: the manifest's train split times {@code data.label_fraction}, rounded. */
    public long trainImages(dev.sparkvit.data.ingest.Manifest manifest) {
        return Math.round(manifest.counts().values().stream().mapToLong(splits -> splits.getOrDefault("train", 0L))
                .sum() * get(LABEL_FRACTION));
    }

    /** {@link #resolved} for the train split {@code manifest} describes. */
    public FinetuneSettings resolvedFor(dev.sparkvit.data.ingest.Manifest manifest, int replicas) {
        return resolved(trainImages(manifest), replicas);
    }

    /** The resolved recipe as one line: each value, and which were set in the config. */
    public String describeRecipe(long trainImages) {
        Mixing mixing = get(MIXING);
        String values = String.format(java.util.Locale.ROOT, "batch %d%s, learning rate %s%s, warmup %d epochs%s, "
                + "weight decay %s%s, drop path %s%s, %s augmentation%s, mixup %s%s, cutmix %s%s", get(BATCH_SIZE),
                set(BATCH_SIZE), get(LEARNING_RATE), set(LEARNING_RATE), get(WARMUP_EPOCHS), set(WARMUP_EPOCHS),
                get(WEIGHT_DECAY), set(WEIGHT_DECAY), get(DROP_PATH_RATE), set(DROP_PATH_RATE), get(SEVERITY),
                set(SEVERITY), mixing.mixup() ? "on" : "off", set(USE_MIXUP), mixing.cutmix() ? "on" : "off",
                set(USE_CUTMIX));
        FinetuneRecipe recipe = get(RECIPE);
        return "recipe for a " + (recipe == null ? "dataset" : recipe.describe(trainImages)) + ": " + values;
    }

    private String set(Setting<?> key) {
        return auto.contains(key.path()) ? "" : " (set)";
    }

    /** The settings that must not change on resume, as text (stored in checkpoints and compared). */
    public Map<String, String> fingerprint() {
        if (!auto.isEmpty() && get(RECIPE) == null) {
            throw new IllegalStateException("fine-tuning settings with auto keys " + auto + " are not resolved yet");
        }
        return values.fingerprint();
    }

    /** The model preset's name. */
    public String preset() {
        return get(FinetuneKeys.MODEL).preset();
    }

    /** Every value, the source and the auto keys, as text. */
    @Override
    public String toString() {
        return "FinetuneSettings" + values + " auto=" + new java.util.TreeSet<>(auto);
    }
}
