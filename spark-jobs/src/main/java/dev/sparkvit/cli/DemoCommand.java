package dev.sparkvit.cli;

import dev.sparkvit.engine.Seeds;
import dev.sparkvit.jobs.demo.DemoJob;
import dev.sparkvit.jobs.demo.DemoResult;
import dev.sparkvit.jobs.pretrain.PretrainResult;
import dev.sparkvit.jobs.demo.DemoSettings;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sparkvit demo}: the end-to-end demo on the embedded synthetic dataset. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Generate the embedded image dataset, ingest it, pretrain a small ViT with SimCLR on it (linear "
                + "probe against a random encoder), fine-tune it and a from-scratch baseline, evaluate both and print "
                + "where the HTML report is.")
final class DemoCommand extends SparkCommand implements Callable<Integer> {
    @Option(names = "--output", defaultValue = "out/demo", description = "Output folder (default: ${DEFAULT-VALUE}).")
    Path output;

    @Option(names = "--image-size", defaultValue = "32", description = "Image side in pixels (default: ${DEFAULT-VALUE}).")
    int imageSize;

    @Option(names = "--images-per-class", defaultValue = "150",
            description = "Generated images per class, 10 classes (default: ${DEFAULT-VALUE}).")
    int imagesPerClass;

    @Option(names = "--epochs", defaultValue = "40", description = "Pretraining epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "64", description = "Global mini-batch (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--lr", defaultValue = "0.001", description = "AdamW peak learning rate (default: ${DEFAULT-VALUE}).")
    double learningRate;

    @Option(names = "--finetune-epochs", defaultValue = "10",
            description = "Fine-tuning epochs, SSL and scratch alike (default: ${DEFAULT-VALUE}).")
    int finetuneEpochs;

    @Option(names = "--seed", description = "Seed of data and weights (default: 42).")
    long seed = Seeds.DEFAULT;

    @Override
    public Integer call() {
        DemoSettings settings = new DemoSettings(output.toAbsolutePath(), imageSize, imagesPerClass, epochs,
                batchSize, learningRate, finetuneEpochs, seed);
        dev.sparkvit.config.PathChecks.requireFolder("--output", output.toString());
        SparkSession spark = startSpark("sparkvit demo");
        try {
            DemoResult result = new DemoJob(settings, System.out).execute(spark);
            PretrainResult pretrain = result.pretrain();
            float[] losses = pretrain.iterationLosses();
            System.out.println();
            System.out.printf("sparkvit demo: SimCLR pretraining, NT-Xent %.3f -> %.3f over %d iterations%n",
                    losses[0], losses[losses.length - 1], losses.length);
            System.out.printf("  linear-probe val accuracy, pretrained (EMA) encoder: pooled %.3f, mean tokens %.3f%n",
                    pretrain.pretrainedProbe().pooledAccuracy(), pretrain.pretrainedProbe().meanAccuracy());
            System.out.printf("  linear-probe val accuracy, random encoder:           pooled %.3f, mean tokens %.3f%n",
                    pretrain.randomProbe().pooledAccuracy(), pretrain.randomProbe().meanAccuracy());
            System.out.println("  dataset:     " + result.datasetDir());
            System.out.println("  pairs:       " + result.pairsPng());
            System.out.println("  curves:      " + pretrain.curves());
            System.out.println("  tensorboard: tensorboard --logdir " + result.pretrainDir());
            System.out.println();
            System.out.println("sparkvit demo: fine-tuning, test split (" + result.evaluation().images() + " images)");
            result.evaluation().variants().forEach((name, m) -> System.out.printf(
                    "  %-22s accuracy %.3f  macro-F1 %.3f%n", name.replace("baseline", "scratch"), m.accuracy(),
                    m.macroF1()));
            System.out.println("  (the first four start from the SSL encoder; 'scratch' ones from random weights)");
            System.out.println("  metrics:     " + result.evaluation().metrics());
            System.out.println();
            System.out.println("HTML report: " + result.evaluation().report());
            return ExitCodes.OK;
        } finally {
            spark.stop();
        }
    }
}
