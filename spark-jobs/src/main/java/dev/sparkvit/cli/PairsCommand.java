package dev.sparkvit.cli;

import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.data.pairs.PairPreview;
import dev.sparkvit.engine.Seeds;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sparkvit pairs}: a PNG contact sheet of SimCLR pairs, to see what the augmentations do. */
@Command(name = "pairs", mixinStandardHelpOptions = true,
        description = "Write a PNG contact sheet of SimCLR positive pairs (original, view 1, view 2) from a dataset.")
final class PairsCommand extends SparkCommand implements Callable<Integer> {
    @Option(names = "--dataset", required = true, description = "Dataset folder written by sparkvit ingest.")
    String dataset;

    @Option(names = "--output", defaultValue = "out/pairs.png", description = "PNG to write (default: ${DEFAULT-VALUE}).")
    Path output;

    @Option(names = "--count", defaultValue = "8", description = "Pairs on the sheet (default: ${DEFAULT-VALUE}).")
    int count;

    @Option(names = "--epoch", defaultValue = "0", description = "Epoch whose views to show (default: ${DEFAULT-VALUE}).")
    int epoch;

    @Option(names = "--seed", description = "Augmentation seed (default: 42).")
    long seed = Seeds.DEFAULT;

    @Override
    public Integer call() {
        if (count < 1 || count > 256) {
            throw new IllegalArgumentException("--count = " + count + " is invalid: expected 1 to 256");
        }
        dev.sparkvit.data.ingest.Manifest manifest = StoredImages.localManifest("--dataset", dataset);
        if (manifest != null && manifest.images() == 0) {
            throw new IllegalArgumentException("--dataset " + dataset + " holds no images (its input had no valid "
                    + "image)");
        }
        dev.sparkvit.config.PathChecks.requireFile("--output", output.toString());
        SparkSession spark = startSpark("sparkvit pairs");
        try {
            spark.sparkContext().setJobGroup("pairs:sheet", "contact sheet of SimCLR pairs", false);
            int written = PairPreview.write(spark, dataset, StoredImages.manifest(spark, dataset), seed, count, epoch,
                    output);
            System.out.println("sparkvit pairs: " + written + " pairs (original, view 1, view 2) -> "
                    + output.toAbsolutePath());
            return ExitCodes.OK;
        } finally {
            spark.stop();
        }
    }
}
