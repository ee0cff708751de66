package dev.sparkvit.jobs.pretrain;

import dev.sparkvit.config.Setting;
import dev.sparkvit.config.SettingList;
import dev.sparkvit.jobs.train.ModelChoice;
import dev.sparkvit.jobs.train.TrainingInput;
import dev.sparkvit.jobs.train.TrainingKeys;

/**
 * Every setting of a pretraining config, declared once, in the order they are read and enter the run fingerprint
 * (which must not change: checkpoints hold it). The shared ones are {@link TrainingKeys}'. Job code reads a value
 * with {@code settings.get(PretrainKeys.X)}; a new key is a line here and its use.
 */
public final class PretrainKeys {
    private PretrainKeys() {
    }

    /** The settings in order. */
    public static final SettingList LIST = new SettingList();

    public static final Setting<String> DATASET = LIST.add(TrainingKeys.DATASET);
    public static final Setting<ModelChoice> MODEL = LIST.add(TrainingKeys.MODEL);
    public static final Setting<Integer> EPOCHS = LIST.add(TrainingKeys.epochs(20));
    public static final Setting<Integer> BATCH_SIZE = LIST.add(Setting.integer("training.batch_size", 64, 2, 1 << 20,
            "images per global batch (two views each); a multiple of executors x cores").fingerprinted());
    public static final Setting<String> OPTIMIZER = LIST.add(Setting.choice("training.optimizer", "adamw",
            "adamw | sgd (with momentum) | lars (sgd behind LARS trust ratios)", "adamw", "sgd", "lars")
            .fingerprinted());
    public static final Setting<Double> LEARNING_RATE = LIST.add(Setting.number("training.learning_rate", 1e-3, 0,
            true, 100, "peak, after the linear warmup; cosine decay to 0 by the last iteration").fingerprinted());
    /** In the fingerprint only when set: runs before the key keep theirs, and their checkpoints resume. */
    public static final Setting<Double> MIN_LR_RATIO = LIST.add(Setting.number("training.min_lr_ratio", 0.0, 0, false,
            1, "floor of the cosine decay as a fraction of learning_rate (0: decays to 0); FreezeOut's block "
                    + "schedules still end at 0").fingerprinted(ratio -> ratio == 0 ? null : String.valueOf(ratio)));
    public static final Setting<Double> WEIGHT_DECAY = LIST.add(Setting.number("training.weight_decay", 0.05, 0,
            false, 10, "decoupled; never applied to biases, norms, embeddings, LayerScale gammas").fingerprinted());
    public static final Setting<Double> MOMENTUM = LIST.add(Setting.number("training.momentum", 0.9, 0, false,
            0.999999, "sgd and lars momentum").fingerprinted());
    public static final Setting<Double> LARS_ETA = LIST.add(Setting.number("training.lars_eta", 0.001, 0, true, 1,
            "lars trust coefficient").fingerprinted());
    public static final Setting<Integer> WARMUP_EPOCHS = LIST.add(Setting.integer("training.warmup_epochs", 2, 0,
            100_000, "linear warmup of the learning rate, in epochs; less than training.epochs").fingerprinted());
    public static final Setting<Double> CLIP_GRAD_NORM = LIST.add(TrainingKeys.CLIP_GRAD_NORM);

    static {
        LIST.addAll(TrainingKeys.FAILURES);
    }

    public static final Setting<Double> TEMPERATURE = LIST.add(Setting.number("temperature", 0.07, 0, true, 100,
            "NT-Xent temperature").fingerprinted());
    public static final Setting<Integer> PROJECTION_DIM = LIST.add(Setting.integer("projection_dim", 128, 1, 65_536,
            "output size of the SimCLR projection head").fingerprinted());
    public static final Setting<String> PROJECTION_NORM = LIST.add(Setting.choice("projection_norm", "batch",
            "batch: SimCLR's head, Linear-BatchNorm-ReLU-Linear (synchronised BatchNorm over the global batch, batch "
                    + "statistics only) | none: Linear-ReLU-Linear", "batch", "none").fingerprinted());

    static {
        LIST.addAll(TrainingKeys.FREEZEOUT_KEYS);
    }

    public static final Setting<Double> EMA_DECAY = LIST.add(TrainingKeys.emaDecay(0.999));
    public static final Setting<Boolean> EMA_WARMUP = LIST.add(TrainingKeys.EMA_WARMUP);
    /** The EMA in the fingerprint as pretraining has always written it: the decay, then " warmup" when on. */
    public static final Setting<String> EMA = LIST.add(Setting.derived("training.ema", null,
            v -> v.get(EMA_DECAY) + (v.get(EMA_WARMUP) ? " warmup" : "")).fingerprinted());
    public static final Setting<Integer> SEED = LIST.add(TrainingKeys.SEED);

    static {
        LIST.addAll(TrainingKeys.CHECKPOINT_KEYS);
    }

    public static final Setting<Integer> PROBE_EVERY = LIST.add(Setting.integer("training.probe_every_epochs", 0, 0,
            100_000, "epochs between linear probes of the EMA encoder; one always runs after the last epoch; 0 = "
                    + "only then"));
    public static final Setting<String> OUTPUT_DIR = LIST.add(TrainingKeys.outputDir("out/pretrain",
            "checkpoints/, tensorboard/, pretrain-curves.png, pretrained-ema.safetensors (local path, hdfs:// or "
                    + "s3a://)"));
    public static final Setting<Integer> REPLICAS = LIST.add(TrainingKeys.REPLICAS);
    public static final Setting<String> ENGINE = LIST.add(TrainingKeys.ENGINE);
    /** In the fingerprint only when replica: runs before the key keep theirs, and their checkpoints resume. */
    public static final Setting<String> NEGATIVES = LIST.add(Setting.choice("training.negatives", "global",
            "global: NT-Xent over the whole batch, 2 x batch - 2 negatives per view | replica: within each barrier "
                    + "task's slice only (2 x batch / tasks - 2), to compare", "global", "replica")
            .fingerprinted(negatives -> negatives.equals("global") ? null : negatives));
    public static final Setting<TrainingInput> INPUT = LIST.add(TrainingKeys.INPUT);
}
