package dev.sparkvit.cli;

import dev.sparkvit.engine.Seeds;
import dev.sparkvit.jobs.pretrain.PretrainJob;
import dev.sparkvit.jobs.pretrain.PretrainResult;
import dev.sparkvit.jobs.pretrain.PretrainSettings;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sparkvit pretrain}: SimCLR pretraining on an ingested dataset, then a linear probe. */
@Command(name = "pretrain", mixinStandardHelpOptions = true,
        description = "SimCLR pretraining of the ViT on an ingested dataset (DistriOptimizer, NT-Xent, AdamW, EMA, "
                + "optional FreezeOut), then a linear probe of the EMA encoder against a random one.")
final class PretrainCommand extends SparkCommand implements Callable<Integer> {
    @Option(names = "--dataset", required = true, description = "Dataset folder written by sparkvit ingest.")
    String dataset;

    @Option(names = "--output", defaultValue = "out/pretrain", description = "Output folder (default: ${DEFAULT-VALUE}).")
    Path output;

    @Option(names = "--preset", defaultValue = "vit_nano_patch4_32", description = "Model preset (default: ${DEFAULT-VALUE}).")
    String preset;

    @Option(names = "--epochs", defaultValue = "20", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "32", description = "Images per batch (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--lr", defaultValue = "0.002", description = "AdamW learning rate (default: ${DEFAULT-VALUE}).")
    double learningRate;

    @Option(names = "--weight-decay", defaultValue = "0.0", description = "AdamW weight decay (default: ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--warmup-epochs", defaultValue = "2", description = "Warmup epochs (default: ${DEFAULT-VALUE}).")
    int warmupEpochs;

    @Option(names = "--temperature", defaultValue = "0.07", description = "NT-Xent temperature (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--projection-dim", defaultValue = "128", description = "Projection size (default: ${DEFAULT-VALUE}).")
    int projectionDim;

    @Option(names = "--freezeout", description = "Freeze blocks progressively (FreezeOut, cubic, t0 = 0.8).")
    boolean freezeOut;

    @Option(names = "--ema-decay", defaultValue = "0.999", description = "Weight EMA decay (default: ${DEFAULT-VALUE}).")
    double emaDecay;

    @Option(names = "--seed", description = "Seed (default: 42).")
    long seed = Seeds.DEFAULT;

    @Override
    public Integer call() {
        PretrainSettings settings = new PretrainSettings(dataset, output.toAbsolutePath(), preset, epochs, batchSize,
                learningRate, weightDecay, warmupEpochs, temperature, projectionDim, freezeOut, emaDecay, seed);
        SparkSession spark = startSpark("sparkvit pretrain");
        try {
            PretrainResult r = new PretrainJob(settings).execute(spark);
            float[] losses = r.iterationLosses();
            System.out.printf("sparkvit pretrain: %d iterations, NT-Xent %.4f -> %.4f (%d negatives per view)%n",
                    losses.length, losses[0], losses[losses.length - 1], r.negativesPerAnchor());
            System.out.println("  pretrained (EMA) " + r.pretrainedProbe());
            System.out.println("  random encoder   " + r.randomProbe());
            System.out.println("  weights: " + r.weights());
            return ExitCodes.OK;
        } finally {
            spark.stop();
        }
    }
}
