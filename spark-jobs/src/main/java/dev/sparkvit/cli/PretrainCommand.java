package dev.sparkvit.cli;

import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.jobs.pretrain.PretrainConfig;
import dev.sparkvit.jobs.pretrain.PretrainJob;
import dev.sparkvit.jobs.pretrain.PretrainResult;
import dev.sparkvit.jobs.pretrain.PretrainSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sparkvit pretrain}: SimCLR pretraining from a YAML config, then a linear probe. */
@Command(name = "pretrain", mixinStandardHelpOptions = true,
        description = "SimCLR pretraining of the ViT on an ingested dataset (DistriOptimizer, NT-Xent, AdamW or SGD, "
                + "EMA, optional FreezeOut, checkpoints), then a linear probe of the EMA encoder against a random one.")
final class PretrainCommand extends SparkCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "Pretraining YAML (see conf/pretrain.yaml).")
    Path config;

    @Option(names = "--set", description = "Override a config key, e.g. --set training.epochs=5 (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--resume", description = "Continue the run in output_dir from its newest checkpoint.")
    boolean resume;

    @Override
    public Integer call() {
        // validated before Spark starts: a wrong key or value costs no cluster time
        PretrainSettings settings = PretrainConfig.read(YamlConfig.load(config).with(overrides));
        SparkSession spark = startSpark("sparkvit pretrain");
        try {
            PretrainResult r = new PretrainJob(settings, resume, System.out).execute(spark);
            float[] losses = r.iterationLosses();
            System.out.printf("sparkvit pretrain: %d iterations, NT-Xent %.4f -> %.4f (%d negatives per view)%n",
                    losses.length, losses[0], losses[losses.length - 1], r.negativesPerAnchor());
            System.out.println("  pretrained (EMA) " + r.pretrainedProbe());
            System.out.println("  random encoder   " + r.randomProbe());
            System.out.println("  weights: " + r.weights());
            System.out.println("  curves:  " + r.curves());
            System.out.println("  tensorboard: " + settings.outputDir().resolve("tensorboard"));
            return ExitCodes.OK;
        } finally {
            spark.stop();
        }
    }
}
