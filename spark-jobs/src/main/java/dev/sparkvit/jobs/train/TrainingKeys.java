package dev.sparkvit.jobs.train;

import dev.sparkvit.checkpoint.CheckpointStore;
import dev.sparkvit.config.Setting;
import dev.sparkvit.config.SettingList;
import dev.sparkvit.engine.NonFinitePolicy;
import dev.sparkvit.engine.Seeds;
import dev.sparkvit.model.optim.FreezeOutSchedule;
import java.util.Locale;

/**
 * The settings both training jobs declare the same way: one declaration each (a method where the jobs' defaults
 * differ). Each job lists the ones it reads, in its order, in its own holder ({@code PretrainKeys},
 * {@code FinetuneKeys}); the groups ({@link #FAILURES}, {@link #FREEZEOUT_KEYS}, {@link #CHECKPOINT_KEYS}) are
 * listed whole, so a key declared in a group reaches both jobs.
 */
public final class TrainingKeys {
    private TrainingKeys() {
    }

    /** {@code data.dataset}: see {@link TrainingConfig#dataset}. */
    public static final Setting<String> DATASET = Setting.read("data.dataset",
            "folder written by `sparkvit ingest` (local path, hdfs:// or s3a://)",
            in -> TrainingConfig.dataset(in.yaml(), in.section("data"))).fingerprinted();

    /**
     * The model keys ({@code model.preset}, {@code model.layer_scale}, {@code model.pooling}, {@code data.img_size},
     * read by {@link ModelChoice#read}; described by the shipped fragments' comments), in the fingerprint as its own
     * entries.
     */
    public static final Setting<ModelChoice> MODEL = Setting.read("model", null,
            in -> ModelChoice.read(in.section("model"), in.section("data"), in.file()))
            .fingerprintedAs(ModelChoice::fingerprint);

    /**
     * {@code data.input} and {@code data.shuffle_buffer}: where the epochs read the train split from
     * ({@link TrainingInput}); in the fingerprint only when streamed, so memory runs keep theirs.
     */
    public static final Setting<TrainingInput> INPUT = Setting.read("data.input", null,
            in -> TrainingInput.read(in.section("data"))).fingerprintedAs(TrainingInput::fingerprint);

    /** {@code training.epochs}, {@code fallback} by default. */
    public static Setting<Integer> epochs(int fallback) {
        return Setting.integer("training.epochs", fallback, 1, 100_000, "passes over the train split")
                .fingerprinted();
    }

    public static final Setting<Double> CLIP_GRAD_NORM = Setting.number("training.clip_grad_norm", 1.0, 0, false,
            1e9, "global L2 norm the gradient is clipped to; 0 turns clipping off").fingerprinted();

    /** What a non-finite step and a lost executor do, and the removed engine key: read by both jobs, in order. */
    public static final SettingList FAILURES = new SettingList();

    public static final Setting<String> NON_FINITE = FAILURES.add(Setting.choice("training.non_finite", "stop",
            "a NaN or infinite loss or gradient: stop (exit code 5, nothing written after the newest checkpoint: "
                    + "--resume from it) | skip (that step changes no weight, moment or EMA; counters and schedules "
                    + "move on; with gradient accumulation the micro-batch's whole step); may change on --resume",
            "stop", "skip"));

    /** Read with stop too, so that a typo is caught either way. */
    public static final Setting<Integer> MAX_SKIPPED_STEPS = FAILURES.add(Setting.integer(
            "training.max_skipped_steps", 10, 1, 10_000, "with skip: steps a run may skip; the next non-finite one "
                    + "stops it"));

    /** What an iteration whose loss or averaged gradient is NaN or infinite does. */
    public static final Setting<NonFinitePolicy> NON_FINITE_POLICY = FAILURES.add(Setting.derived(
            "training.non_finite_policy", null, v -> v.get(NON_FINITE).equals("skip")
                    ? NonFinitePolicy.skip(v.get(MAX_SKIPPED_STEPS)) : NonFinitePolicy.stop()));

    public static final Setting<Integer> MAX_RESTARTS = FAILURES.add(Setting.integer("training.max_restarts", 2, 0,
            100,
            "an executor lost (the segment's barrier stage fails with it): restart from the newest checkpoint in "
                    + "this driver, as --resume would, at most this often; 0 = fail at once; may change on --resume"));

    public static final Setting<Integer> RESTART_WAIT_SECONDS = FAILURES.add(Setting.integer(
            "training.restart_wait_seconds", 300, 1, 86_400, "each restart first waits this long at most for the "
                    + "executors to be back"));

    /** How often a run whose executor was lost restarts in the same driver, and how long each waits. */
    public static final Setting<RestartPolicy> RESTARTS = FAILURES.add(Setting.derived("training.restarts", null,
            v -> new RestartPolicy(v.get(MAX_RESTARTS), v.get(RESTART_WAIT_SECONDS))));

    public static final Setting<Integer> SEED = Setting.integer("training.seed", (int) Seeds.DEFAULT, 0,
            Integer.MAX_VALUE, "the one seed of the run's weights, augmentation and order").fingerprinted();

    /** {@code training.engine} chose DLlib's DistriOptimizer or the barrier engine; both jobs train on the latter. */
    public static final Setting<Void> ENGINE_REMOVED = FAILURES.add(Setting.removed("training.engine",
            "both training jobs train on the barrier engine; delete the key"));

    /** The engine every run's fingerprint names ({@link RunState#ENGINE}). */
    public static final Setting<String> ENGINE = Setting.derived("engine", null, v -> RunState.ENGINE)
            .fingerprinted();

    /** FreezeOut's keys and their record, in order. */
    public static final SettingList FREEZEOUT_KEYS = new SettingList();

    public static final Setting<Boolean> FREEZEOUT_ENABLED = FREEZEOUT_KEYS.add(Setting.flag(
            "training.freezeout.enabled", false,
            "blocks freeze progressively and backward stops at the frozen prefix; not with gradient accumulation"));

    public static final Setting<Double> FREEZEOUT_T0 = FREEZEOUT_KEYS.add(Setting.number("training.freezeout.t0",
            0.8, 0, true, 1, "block 0 trains for scaling(t0) of the run, the last block for all of it"));

    public static final Setting<String> FREEZEOUT_SCALING = FREEZEOUT_KEYS.add(Setting.choice(
            "training.freezeout.scaling", "cubic", "how t_i grows from t0 to 1 over the blocks", "linear", "squared",
            "cubic"));

    public static final Setting<Boolean> FREEZEOUT_SCALE_LR = FREEZEOUT_KEYS.add(Setting.flag(
            "training.freezeout.scale_lr", false, "block i starts at lr / t_i"));

    /** FreezeOut's four knobs, in the fingerprint as one entry. */
    public static final Setting<FreezeOut> FREEZEOUT = FREEZEOUT_KEYS.add(Setting.derived("training.freezeout", null,
            v -> new FreezeOut(v.get(FREEZEOUT_ENABLED), v.get(FREEZEOUT_T0),
                    FreezeOutSchedule.Scaling.valueOf(v.get(FREEZEOUT_SCALING).toUpperCase(Locale.ROOT)),
                    v.get(FREEZEOUT_SCALE_LR))).fingerprinted(FreezeOut::toString));

    /** {@code training.ema.decay}, {@code fallback} by default; fine-tuning spelled it training.ema_decay. */
    public static Setting<Double> emaDecay(double fallback) {
        return Setting.number("training.ema.decay", fallback, 0, false, 0.9999999,
                "decay of the exponential moving average of the weights, updated every iteration")
                .formerly("training.ema_decay");
    }

    public static final Setting<Boolean> EMA_WARMUP = Setting.flag("training.ema.warmup", true,
            "timm's warmup of the decay: min(decay, (1 + k) / (10 + k))").formerly("training.ema_warmup");

    /** The checkpoint keys, in order. */
    public static final SettingList CHECKPOINT_KEYS = new SettingList();

    public static final Setting<Integer> CHECKPOINT_EVERY = CHECKPOINT_KEYS.add(Setting.integer(
            "training.checkpoint.every_iterations", 0, 0, Integer.MAX_VALUE, "iterations between checkpoints; 0 = at "
                    + "the end of every epoch"));

    public static final Setting<Integer> CHECKPOINT_KEEP = CHECKPOINT_KEYS.add(Setting.integer(
            "training.checkpoint.keep", 3, 1, 1000, "newest checkpoints kept"));

    public static final Setting<CheckpointStore.OnCorrupt> ON_CORRUPT = CHECKPOINT_KEYS.add(Setting.read(
            "training.checkpoint.on_corrupt",
            "--resume with a corrupt newest checkpoint: fail (name it and stop) | previous (keep it as "
                    + "corrupt-iter-N, warn, resume from the newest valid one)",
            in -> CheckpointStore.OnCorrupt.valueOf(in.section("training.checkpoint")
                    .choice("on_corrupt", "fail", "fail", "previous").toUpperCase(Locale.ROOT))));

    /** {@code output_dir}, {@code fallback} by default: see {@link TrainingConfig#outputDir}. */
    public static Setting<String> outputDir(String fallback, String doc) {
        return Setting.read("output_dir", doc, in -> TrainingConfig.outputDir(in.yaml(), in.root(), fallback));
    }

    /** The model replicas the optional {@code cluster} section declares, 0 for none ({@link TrainingConfig#replicas}). */
    public static final Setting<Integer> REPLICAS = Setting.read("cluster", null,
            in -> TrainingConfig.replicas(in.yaml(), in.root()));
}
