package dev.sparkvit.jobs.pretrain;

import dev.sparkvit.checkpoint.CheckpointStore;
import dev.sparkvit.config.ConfigSection;
import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.engine.NonFinitePolicy;
import dev.sparkvit.engine.Seeds;
import dev.sparkvit.jobs.train.ModelChoice;
import dev.sparkvit.jobs.train.RestartPolicy;
import dev.sparkvit.jobs.train.TrainingConfig;
import dev.sparkvit.model.optim.FreezeOutSchedule;
import java.util.Locale;

/**
 * Reads a pretraining YAML file in the shape of the training guide's {@code configs/pretrain.yaml}: sections
 * {@code data}, {@code model} and {@code training}, then {@code temperature}, {@code projection_dim} and
 * {@code output_dir} (see conf/pretrain.yaml for every key and its default), and the optional {@code cluster}
 * ({@code executors}, {@code executor_cores}) the batch size must divide into. Unknown keys, wrong types and
 * out-of-range values are errors naming the file, line and key.
 */
public final class PretrainConfig {
    private PretrainConfig() {
    }

    public static PretrainSettings read(YamlConfig yaml) {
        ConfigSection root = yaml.root();
        ConfigSection data = root.section("data");
        String dataset = TrainingConfig.dataset(yaml, data);
        dev.sparkvit.jobs.train.TrainingInput input = dev.sparkvit.jobs.train.TrainingInput.read(data);
        ConfigSection model = root.section("model");
        ModelChoice modelChoice = ModelChoice.read(model, data, yaml.file().toString());
        ConfigSection training = root.section("training");
        int epochs = training.integer("epochs", 20, 1, 100_000);
        int batchSize = training.integer("batch_size", 64, 2, 1 << 20);
        String optimizer = training.choice("optimizer", "adamw", "adamw", "sgd", "lars");
        double lr = training.number("learning_rate", 1e-3, 0, true, 100);
        double weightDecay = training.number("weight_decay", 0.05, 0, false, 10);
        double momentum = training.number("momentum", 0.9, 0, false, 0.999999);
        double larsEta = training.number("lars_eta", 0.001, 0, true, 1);
        int warmup = training.integer("warmup_epochs", 2, 0, 100_000);
        double clip = training.number("clip_grad_norm", 1.0, 0, false, 1e9);
        NonFinitePolicy nonFinite = TrainingConfig.nonFinite(training);
        RestartPolicy restarts = TrainingConfig.restarts(training);
        long seed = training.integer("seed", (int) Seeds.DEFAULT, 0, Integer.MAX_VALUE);
        TrainingConfig.engineRemoved(training);
        ConfigSection freeze = training.section("freezeout");
        PretrainSettings.FreezeOut freezeOut = new PretrainSettings.FreezeOut(freeze.flag("enabled", false),
                freeze.number("t0", 0.8, 0, true, 1),
                FreezeOutSchedule.Scaling.valueOf(freeze.choice("scaling", "cubic", "linear", "squared", "cubic")
                        .toUpperCase(Locale.ROOT)),
                freeze.flag("scale_lr", false));
        ConfigSection ema = TrainingConfig.emaSection(training);
        double emaDecay = TrainingConfig.emaDecay(ema, 0.999);
        boolean emaWarmup = TrainingConfig.emaWarmup(ema);
        ConfigSection checkpoint = training.section("checkpoint");
        int every = checkpoint.integer("every_iterations", 0, 0, Integer.MAX_VALUE);
        int keep = checkpoint.integer("keep", 3, 1, 1000);
        CheckpointStore.OnCorrupt onCorrupt = TrainingConfig.onCorrupt(checkpoint);
        int probeEvery = training.integer("probe_every_epochs", 0, 0, 100_000);
        double temperature = root.number("temperature", 0.07, 0, true, 100);
        int projectionDim = root.integer("projection_dim", 128, 1, 65_536);
        boolean projectionBatchNorm = root.choice("projection_norm", "batch", "batch", "none").equals("batch");
        String output = TrainingConfig.outputDir(yaml, root, "out/pretrain");
        int replicas = TrainingConfig.replicas(yaml, root);
        root.finish();
        if (warmup >= epochs) {
            throw new dev.sparkvit.config.ConfigException(yaml.file() + ": " + training.describe("warmup_epochs")
                    + " must be less than training.epochs = " + epochs);
        }
        TrainingConfig.requireDivisible(yaml, root, batchSize, training.describe("batch_size"), replicas);
        return new PretrainSettings(dataset, output, modelChoice, epochs,
                batchSize, optimizer, lr, weightDecay, momentum, larsEta, warmup, clip, nonFinite, restarts, temperature,
                projectionDim, projectionBatchNorm, freezeOut, emaDecay, emaWarmup, every, keep, onCorrupt, probeEvery,
                seed, yaml.file(), input);
    }
}
