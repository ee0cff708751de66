package dev.sparkvit.jobs.finetune;

import dev.sparkvit.checkpoint.CheckpointStore;
import dev.sparkvit.config.ConfigException;
import dev.sparkvit.config.ConfigSection;
import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.engine.NonFinitePolicy;
import dev.sparkvit.engine.Seeds;
import dev.sparkvit.jobs.pretrain.PretrainSettings;
import dev.sparkvit.jobs.train.ModelChoice;
import dev.sparkvit.jobs.train.RestartPolicy;
import dev.sparkvit.jobs.train.TrainingConfig;
import dev.sparkvit.model.optim.FreezeOutSchedule;
import java.nio.file.Files;
import java.util.List;
import java.util.Locale;

/**
 * Reads a fine-tuning YAML file in the shape of the training guide's {@code configs/finetune.yaml}: sections
 * {@code data}, {@code model}, {@code training}, {@code augmentations} and {@code evaluation}, then
 * {@code output_dir} (conf/finetune.yaml shows every key with its default), and the optional {@code cluster}
 * ({@code executors}, {@code executor_cores}) the micro-batch must divide into. Unknown keys, wrong types, out-of-range
 * values and missing paths are errors naming the file, line and key.
 */
public final class FinetuneConfig {
    private FinetuneConfig() {
    }

    public static FinetuneSettings read(YamlConfig yaml) {
        ConfigSection root = yaml.root();
        ConfigSection data = root.section("data");
        String dataset = TrainingConfig.dataset(yaml, data);
        double labelFraction = data.number("label_fraction", 1.0, 0, true, 1);
        dev.sparkvit.jobs.train.TrainingInput input = dev.sparkvit.jobs.train.TrainingInput.read(data);
        ConfigSection model = root.section("model");
        ModelChoice modelChoice = ModelChoice.read(model, data, yaml.file().toString());
        String ssl = model.optionalLocation("ssl_pretrained_path");
        if (ssl != null && dev.sparkvit.storage.Locations.local(ssl) != null
                && !Files.exists(dev.sparkvit.storage.Locations.local(ssl))) {
            throw new ConfigException(yaml.file() + ": " + model.describe("ssl_pretrained_path")
                    + " does not exist: give the pretraining's weights file, a checkpoint or its checkpoints "
                    + "folder, or null to train from scratch");
        }
        FinetuneRecipe small = FinetuneRecipe.forTrainImages(0); // auto keys hold its values until resolved
        java.util.Set<String> auto = new java.util.LinkedHashSet<>();
        Double dropPathSet = model.numberOrAuto("drop_path_rate", 0, false, 0.99);
        double dropPath = orAuto(dropPathSet, small.dropPathRate(), "model.drop_path_rate", auto);
        String headInit = model.choice("head_init", "linear_probe", "random", "linear_probe");

        ConfigSection training = root.section("training");
        int epochs = training.integer("epochs", 30, 1, 100_000);
        Integer batchSet = training.integerOrAuto("batch_size", 2, 1 << 20);
        int accumulation = training.integer("gradient_accumulation_steps", 1, 1, 1024);
        // until resolved, an auto batch is the small recipe's rounded up to the accumulation steps
        int batchSize = (int) orAuto(batchSet == null ? null : batchSet.doubleValue(),
                (small.batchSize() + accumulation - 1) / accumulation * accumulation, "training.batch_size", auto);
        double lr = orAuto(training.numberOrAuto("learning_rate", 0, true, 100), small.learningRate(),
                "training.learning_rate", auto);
        double layerDecay = training.number("layer_decay", 0.75, 0, true, 1);
        double weightDecay = orAuto(training.numberOrAuto("weight_decay", 0, false, 10), small.weightDecay(),
                "training.weight_decay", auto);
        Integer warmupSet = training.integerOrAuto("warmup_epochs", 0, 100_000);
        int warmup = warmupSet != null ? warmupSet : small.warmupEpochs(epochs);
        if (warmupSet == null) {
            auto.add("training.warmup_epochs");
        }
        double clip = training.number("clip_grad_norm", 1.0, 0, false, 1e9);
        NonFinitePolicy nonFinite = TrainingConfig.nonFinite(training);
        RestartPolicy restarts = TrainingConfig.restarts(training);
        long seed = training.integer("seed", (int) Seeds.DEFAULT, 0, Integer.MAX_VALUE);
        TrainingConfig.engineRemoved(training);
        training.renamed("use_ema", "training.ema.enabled");
        ConfigSection emaSection = TrainingConfig.emaSection(training);
        FinetuneSettings.Ema ema = new FinetuneSettings.Ema(emaSection.flag("enabled", true),
                TrainingConfig.emaDecay(emaSection, 0.9999), TrainingConfig.emaWarmup(emaSection));
        boolean tta = training.flag("use_tta", true);
        Boolean mixup = training.flagOrAuto("use_mixup");
        double mixupAlpha = training.number("mixup_alpha", 0.8, 0, true, 100);
        Boolean cutmix = training.flagOrAuto("use_cutmix");
        double cutmixAlpha = training.number("cutmix_alpha", 1.0, 0, true, 100);
        if (mixup == null) {
            auto.add("training.use_mixup");
        }
        if (cutmix == null) {
            auto.add("training.use_cutmix");
        }
        FinetuneSettings.Mixing mixing = new FinetuneSettings.Mixing(mixup == null ? small.mixup() : mixup,
                mixupAlpha, cutmix == null ? small.cutmix() : cutmix, cutmixAlpha);
        FinetuneSettings.Loss loss = new FinetuneSettings.Loss(
                training.choice("loss_type", "combined", "ce", "focal", "combined"),
                training.number("label_smoothing", 0.1, 0, false, 0.99),
                training.number("focal_gamma", 2.0, 0, false, 100),
                training.choice("focal_alpha", "none", "none", "balanced"),
                training.choice("class_weights", "none", "none", "balanced"));
        ConfigSection freeze = training.section("freezeout");
        PretrainSettings.FreezeOut freezeOut = new PretrainSettings.FreezeOut(freeze.flag("enabled", false),
                freeze.number("t0", 0.8, 0, true, 1),
                FreezeOutSchedule.Scaling.valueOf(freeze.choice("scaling", "cubic", "linear", "squared", "cubic")
                        .toUpperCase(Locale.ROOT)),
                freeze.flag("scale_lr", false));
        ConfigSection checkpoint = training.section("checkpoint");
        int every = checkpoint.integer("every_iterations", 0, 0, Integer.MAX_VALUE);
        int keep = checkpoint.integer("keep", 3, 1, 1000);
        CheckpointStore.OnCorrupt onCorrupt = TrainingConfig.onCorrupt(checkpoint);

        String severity = root.section("augmentations").choice("severity", "auto", "auto", "light", "moderate",
                "aggressive");
        if (severity.equals("auto")) {
            auto.add("augmentations.severity");
            severity = small.severity();
        }
        List<String> views = root.section("evaluation").choices("tta_views", FinetuneSettings.TTA_VIEWS,
                FinetuneSettings.TTA_VIEWS.toArray(new String[0]));
        String output = TrainingConfig.outputDir(yaml, root, "out/finetune");
        int replicas = TrainingConfig.replicas(yaml, root);
        root.finish();
        if (warmupSet != null && warmup >= epochs) {
            throw new ConfigException(yaml.file() + ": " + training.describe("warmup_epochs")
                    + " must be less than training.epochs = " + epochs);
        }
        if (batchSet != null && batchSize % accumulation != 0) {
            throw new ConfigException(yaml.file() + ": " + training.describe("batch_size") + " is not a multiple of "
                    + "training.gradient_accumulation_steps = " + accumulation);
        }
        if (batchSet != null) { // an auto batch is rounded up to the replicas when resolved
            TrainingConfig.requireDivisible(yaml, root, batchSize / accumulation, training.describe("batch_size")
                    + (accumulation > 1 ? " / " + training.describe("gradient_accumulation_steps") + " = "
                    + batchSize / accumulation : ""), replicas);
        }
        return new FinetuneSettings(dataset, labelFraction, output, modelChoice,
                ssl == null ? null : dev.sparkvit.storage.Locations.absolute(ssl), dropPath, headInit, epochs, batchSize, accumulation, lr,
                layerDecay, weightDecay, warmup, clip, nonFinite, restarts, severity, mixing, loss, ema, freezeOut,
                tta ? views : List.of("identity"), every, keep, onCorrupt, seed, yaml.file(), auto, null, input);
    }

    /** The value set in the config, or (null: auto) the recipe's provisional one, noting the key as auto. */
    private static double orAuto(Double set, double provisional, String key, java.util.Set<String> auto) {
        if (set == null) {
            auto.add(key);
            return provisional;
        }
        return set;
    }
}
