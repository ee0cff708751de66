package dev.sparkvit.cli;

import static dev.sparkvit.jobs.pretrain.PretrainKeys.DATASET;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.OUTPUT_DIR;

import dev.sparkvit.jobs.pretrain.PretrainConfig;
import dev.sparkvit.jobs.pretrain.PretrainJob;
import dev.sparkvit.jobs.pretrain.PretrainResult;
import dev.sparkvit.jobs.pretrain.PretrainSettings;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code sparkvit pretrain}: SimCLR pretraining from a YAML config, then a linear probe. */
@Command(name = "pretrain", mixinStandardHelpOptions = true,
        description = "SimCLR pretraining of the ViT on an ingested dataset (global NT-Xent on Spark barrier "
                + "execution, AdamW, SGD or LARS, "
                + "EMA, optional FreezeOut, checkpoints), then a linear probe of the EMA encoder against a random one.")
final class PretrainCommand extends SparkCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions options;

    @Mixin
    ResumeOption resume;

    @Mixin
    SnapshotOption snapshot;

    @Override
    public Integer call() {
        // validated before Spark starts: a wrong key or value costs no cluster time
        dev.sparkvit.config.YamlConfig yaml = options.load(List.of());
        PretrainSettings settings = PretrainConfig.read(yaml);
        dev.sparkvit.jobs.train.TrainingConfig.requireTrainingImages(yaml, settings.get(DATASET));
        SparkSession spark = startSpark("sparkvit pretrain");
        try {
            PretrainJob job = new PretrainJob(settings, resume.resume, System.out)
                    .snapshot(snapshot.id(settings.get(DATASET)));
            PretrainResult r = job.execute(spark);
            float[] losses = r.iterationLosses();
            if (losses.length == 0) { // resumed from the final checkpoint
                System.out.printf("sparkvit pretrain: no iteration left to train (%d negatives per view)%n",
                        r.negativesPerAnchor());
            } else {
                System.out.printf("sparkvit pretrain: %d iterations, NT-Xent %.4f -> %.4f (%d negatives per view)%n",
                        losses.length, losses[0], losses[losses.length - 1], r.negativesPerAnchor());
            }
            System.out.println("  pretrained (EMA) " + r.pretrainedProbe());
            System.out.println("  random encoder   " + r.randomProbe());
            System.out.println("  dataset: " + job.data());
            System.out.println("  weights: " + SparkCommand.inRun(settings.get(OUTPUT_DIR), r.weights()));
            System.out.println("  curves:  " + SparkCommand.inRun(settings.get(OUTPUT_DIR), r.curves()));
            System.out.println("  tensorboard: " + dev.sparkvit.storage.Locations.resolve(settings.get(OUTPUT_DIR),
                    "tensorboard"));
            return ExitCodes.OK;
        } finally {
            spark.stop();
        }
    }
}
