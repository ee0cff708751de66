package dev.sparkvit.cli;

import dev.sparkvit.engine.Seeds;
import dev.sparkvit.jobs.demo.DemoJob;
import dev.sparkvit.jobs.demo.DemoResult;
import dev.sparkvit.jobs.demo.DemoSettings;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sparkvit demo}: the end-to-end demo on the embedded synthetic dataset. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Generate the embedded image dataset, read it through Spark and train on it, printing the loss.")
final class DemoCommand extends SparkCommand implements Callable<Integer> {
    @Option(names = "--output", defaultValue = "out/demo", description = "Output folder (default: ${DEFAULT-VALUE}).")
    Path output;

    @Option(names = "--image-size", defaultValue = "32", description = "Image side in pixels (default: ${DEFAULT-VALUE}).")
    int imageSize;

    @Option(names = "--images-per-class", defaultValue = "40",
            description = "Generated images per class, 10 classes (default: ${DEFAULT-VALUE}).")
    int imagesPerClass;

    @Option(names = "--epochs", defaultValue = "30", description = "Training epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "16", description = "Global mini-batch (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--lr", defaultValue = "0.001", description = "Adam learning rate (default: ${DEFAULT-VALUE}).")
    double learningRate;

    @Option(names = "--seed", description = "Seed of data and weights (default: 42).")
    long seed = Seeds.DEFAULT;

    @Override
    public Integer call() {
        DemoSettings settings = new DemoSettings(output.toAbsolutePath(), imageSize, imagesPerClass, epochs,
                batchSize, learningRate, seed);
        SparkSession spark = startSpark("sparkvit demo");
        try {
            DemoResult result = new DemoJob(settings).execute(spark);
            System.out.println();
            System.out.println("sparkvit demo: ingested " + result.ingest().inputFiles() + " files ("
                    + result.ingest().stored() + " new, " + result.ingest().alreadyPresent()
                    + " already present); trained on " + result.trainImages() + " images, "
                    + result.iterationLosses().length + " iterations");
            float[] means = result.epochMeanLosses();
            for (int e = 0; e < means.length; e++) {
                System.out.printf("  epoch %d/%d  mean loss %.4f%n", e + 1, means.length, means[e]);
            }
            System.out.println("  dataset:     " + result.datasetDir());
            System.out.println("  pairs:       " + result.pairsPng());
            System.out.println("  tensorboard: " + result.tensorboardDir()
                    + "  (tensorboard --logdir " + result.tensorboardDir() + ")");
            return ExitCodes.OK;
        } finally {
            spark.stop();
        }
    }
}
