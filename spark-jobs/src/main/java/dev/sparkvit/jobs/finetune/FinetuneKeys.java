package dev.sparkvit.jobs.finetune;

import dev.sparkvit.config.ConfigException;
import dev.sparkvit.config.Setting;
import dev.sparkvit.config.SettingList;
import dev.sparkvit.jobs.train.ModelChoice;
import dev.sparkvit.jobs.train.TrainingInput;
import dev.sparkvit.jobs.train.TrainingKeys;
import dev.sparkvit.storage.Locations;
import java.nio.file.Files;
import java.util.List;

/**
 * Every setting of a fine-tuning config, declared once, in the order they are read and enter the run fingerprint
 * (which must not change: checkpoints hold it). The shared ones are {@link TrainingKeys}'. Job code reads a value
 * with {@code settings.get(FinetuneKeys.X)}; a new key is a line here and its use. The {@code ...OrAuto} keys are
 * null when {@code auto} as read; {@link FinetuneConfig} gives them the small recipe's values until
 * {@link FinetuneSettings#resolved} sets the recipe's.
 */
public final class FinetuneKeys {
    private FinetuneKeys() {
    }

    /** The settings in order. */
    public static final SettingList LIST = new SettingList();

    public static final Setting<String> DATASET = LIST.add(TrainingKeys.DATASET);
    public static final Setting<Double> LABEL_FRACTION = LIST.add(Setting.number("data.label_fraction", 1.0, 0, true,
            1, "share of the train split used, a fixed subset by image id (e.g. 0.1 for the semi-supervised "
                    + "setting); the val and test splits are always whole").fingerprinted());
    public static final Setting<ModelChoice> MODEL = LIST.add(TrainingKeys.MODEL);
    /** An absolute local path or a Hadoop URI, or null to train from scratch. */
    public static final Setting<String> SSL_PRETRAINED_PATH = LIST.add(Setting.read("model.ssl_pretrained_path",
            "weights file, one checkpoint (iter-N) or a checkpoints folder (newest); null trains from scratch, the "
                    + "baseline", in -> {
                String ssl = in.section("model").optionalLocation("ssl_pretrained_path");
                if (ssl != null && Locations.local(ssl) != null && !Files.exists(Locations.local(ssl))) {
                    throw new ConfigException(in.file() + ": " + in.section("model").describe("ssl_pretrained_path")
                            + " does not exist: give the pretraining's weights file, a checkpoint or its checkpoints "
                            + "folder, or null to train from scratch");
                }
                return ssl == null ? null : Locations.absolute(ssl);
            }).fingerprinted());
    public static final Setting<Double> DROP_PATH_RATE = LIST.add(Setting.numberOrAuto("model.drop_path_rate", 0,
            false, 0.99, "stochastic depth of the last block, linear from 0 at the first (auto: 0.1 small, 0.2 "
                    + "medium, 0.1 large)").fingerprinted());
    public static final Setting<String> HEAD_INIT = LIST.add(Setting.choice("model.head_init", "linear_probe",
            "linear_probe: LP-FT, the head starts as a logistic regression on the frozen encoder's features "
                    + "(pretrained or not); random: timm's initialisation", "random", "linear_probe").fingerprinted());
    public static final Setting<Integer> EPOCHS = LIST.add(TrainingKeys.epochs(30));
    public static final Setting<Integer> BATCH_SIZE = LIST.add(Setting.integerOrAuto("training.batch_size", 2,
            1 << 20, "images per optimiser step; a multiple of executors x cores x accumulation (auto: 16 small, 32 "
                    + "medium, 64 large, rounded up to that multiple)").fingerprinted());
    public static final Setting<Integer> GRADIENT_ACCUMULATION_STEPS = LIST.add(Setting.integer(
            "training.gradient_accumulation_steps", 1, 1, 1024,
            "micro-batches of batch_size / steps per step, for small memory").fingerprinted());
    public static final Setting<Double> LEARNING_RATE = LIST.add(Setting.numberOrAuto("training.learning_rate", 0,
            true, 100, "peak of the head after warmup; cosine to 0 by the last step (auto: 5e-4 small, 1e-4 medium, "
                    + "3e-4 large)").fingerprinted());
    public static final Setting<Double> LAYER_DECAY = LIST.add(Setting.number("training.layer_decay", 0.75, 0, true,
            1, "block i trains at lr * layer_decay^(depth - i), patch embedding lowest").fingerprinted());
    public static final Setting<Double> WEIGHT_DECAY = LIST.add(Setting.numberOrAuto("training.weight_decay", 0,
            false, 10, "decoupled; never on biases, norms, embeddings, LayerScale gammas (auto: 0.05 small, 0.01 "
                    + "medium, 0.001 large)").fingerprinted());
    public static final Setting<Integer> WARMUP_EPOCHS = LIST.add(Setting.integerOrAuto("training.warmup_epochs", 0,
            100_000, "linear warmup, in epochs (auto: 10% of the epochs small, 5% medium, 3% large; at least 1 of 2 "
                    + "or more)").fingerprinted());
    public static final Setting<Double> CLIP_GRAD_NORM = LIST.add(TrainingKeys.CLIP_GRAD_NORM);

    static {
        LIST.addAll(TrainingKeys.FAILURES);
    }

    public static final Setting<String> SEVERITY = LIST.add(Setting.choice("augmentations.severity", "auto",
            "light | moderate | aggressive (auto: light small, moderate medium and large)", "auto", "light",
            "moderate", "aggressive").fingerprinted());
    public static final Setting<Boolean> USE_MIXUP = LIST.add(Setting.flagOrAuto("training.use_mixup",
            "mixup of each micro-batch (auto: off small, on medium and large)"));
    public static final Setting<Double> MIXUP_ALPHA = LIST.add(Setting.number("training.mixup_alpha", 0.8, 0, true,
            100, "mixup's Beta(alpha, alpha)"));
    public static final Setting<Boolean> USE_CUTMIX = LIST.add(Setting.flagOrAuto("training.use_cutmix",
            "cutmix, auto as use_mixup; with both on, each batch is mixed by one, equal chance"));
    public static final Setting<Double> CUTMIX_ALPHA = LIST.add(Setting.number("training.cutmix_alpha", 1.0, 0, true,
            100, "cutmix's Beta(alpha, alpha)"));
    /** Mixup and cutmix as one record (auto resolved), in the fingerprint as one entry. */
    public static final Setting<FinetuneSettings.Mixing> MIXING = LIST.add(Setting.derived("training.mixing", null,
            v -> new FinetuneSettings.Mixing(v.get(USE_MIXUP), v.get(MIXUP_ALPHA), v.get(USE_CUTMIX),
                    v.get(CUTMIX_ALPHA))).fingerprinted());
    public static final Setting<String> LOSS_TYPE = LIST.add(Setting.choice("training.loss_type", "combined",
            "ce | focal | combined (0.5 focal + 0.5 label-smoothed cross-entropy)", "ce", "focal", "combined"));
    public static final Setting<Double> LABEL_SMOOTHING = LIST.add(Setting.number("training.label_smoothing", 0.1, 0,
            false, 0.99, "label smoothing of the cross-entropy"));
    public static final Setting<Double> FOCAL_GAMMA = LIST.add(Setting.number("training.focal_gamma", 2.0, 0, false,
            100, "focal loss focusing parameter"));
    public static final Setting<String> FOCAL_ALPHA = LIST.add(Setting.choice("training.focal_alpha", "none",
            "none | balanced (per-class alpha from the training split's counts)", "none", "balanced"));
    public static final Setting<String> CLASS_WEIGHTS = LIST.add(Setting.choice("training.class_weights", "none",
            "none | balanced (n / (classes x n_c) weights the cross-entropy)", "none", "balanced"));
    /** The loss and its class weighting as one record, in the fingerprint as one entry. */
    public static final Setting<FinetuneSettings.Loss> LOSS = LIST.add(Setting.derived("training.loss", null,
            v -> new FinetuneSettings.Loss(v.get(LOSS_TYPE), v.get(LABEL_SMOOTHING), v.get(FOCAL_GAMMA),
                    v.get(FOCAL_ALPHA), v.get(CLASS_WEIGHTS))).fingerprinted());
    public static final Setting<Boolean> EMA_ENABLED = LIST.add(Setting.flag("training.ema.enabled", true,
            "evaluate an exponential moving average of the weights beside the live ones")
            .formerly("training.use_ema"));
    public static final Setting<Double> EMA_DECAY = LIST.add(TrainingKeys.emaDecay(0.9999));
    public static final Setting<Boolean> EMA_WARMUP = LIST.add(TrainingKeys.EMA_WARMUP);
    /** The weight average as one record, in the fingerprint as one entry. */
    public static final Setting<FinetuneSettings.Ema> EMA = LIST.add(Setting.derived("training.ema", null,
            v -> new FinetuneSettings.Ema(v.get(EMA_ENABLED), v.get(EMA_DECAY), v.get(EMA_WARMUP))).fingerprinted());

    static {
        LIST.addAll(TrainingKeys.FREEZEOUT_KEYS);
    }

    public static final Setting<Integer> SEED = LIST.add(TrainingKeys.SEED);
    /** The recipe the auto keys were resolved with ({@link FinetuneSettings#resolved}); null before. */
    public static final Setting<FinetuneRecipe> RECIPE = LIST.add(Setting.<FinetuneRecipe>assigned("recipe", null)
            .fingerprinted(recipe -> recipe == null ? null : recipe.scale().toString()));
    public static final Setting<Boolean> USE_TTA = LIST.add(Setting.flag("training.use_tta", true,
            "test-time augmentation in the evaluations (views: evaluation.tta_views)"));
    public static final Setting<List<String>> TTA_VIEWS = LIST.add(Setting.choices("evaluation.tta_views",
            FinetuneSettings.TTA_VIEWS, "crops = the four corners and the centre at 7/8 of the side, resized back",
            FinetuneSettings.TTA_VIEWS.toArray(new String[0])));
    /** The evaluations' test-time augmentation views: evaluation.tta_views, or only identity without use_tta. */
    public static final Setting<List<String>> TTA = LIST.add(Setting.derived("evaluation.tta", null,
            v -> v.get(USE_TTA) ? List.copyOf(v.get(TTA_VIEWS)) : List.of("identity")));

    static {
        LIST.addAll(TrainingKeys.CHECKPOINT_KEYS);
    }

    public static final Setting<String> OUTPUT_DIR = LIST.add(TrainingKeys.outputDir("out/finetune",
            "checkpoints/, tensorboard/, finetune-curves.png, finetuned*.safetensors (local path, hdfs:// or "
                    + "s3a://)"));
    public static final Setting<Integer> REPLICAS = LIST.add(TrainingKeys.REPLICAS);
    public static final Setting<String> ENGINE = LIST.add(TrainingKeys.ENGINE);
    public static final Setting<TrainingInput> INPUT = LIST.add(TrainingKeys.INPUT);
}
