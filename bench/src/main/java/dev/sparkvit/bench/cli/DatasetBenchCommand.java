package dev.sparkvit.bench.cli;

import dev.sparkvit.cli.ExitCodes;
import dev.sparkvit.cli.SparkCommand;
import dev.sparkvit.data.ingest.IngestResult;
import dev.sparkvit.engine.Seeds;
import dev.sparkvit.jobs.demo.EmbeddedDataset;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sparkvit bench dataset}: the demo's embedded dataset, for the training benchmarks. */
@Command(name = "dataset", mixinStandardHelpOptions = true,
        description = "Write the demo's embedded images under OUTPUT/raw and ingest them into OUTPUT/dataset.")
final class DatasetBenchCommand extends SparkCommand implements Callable<Integer> {
    @Option(names = "--output", required = true, description = "Folder for raw/ and dataset/.")
    Path output;

    @Option(names = "--image-size", defaultValue = "32", description = "Image side in pixels (default: ${DEFAULT-VALUE}).")
    int imageSize;

    @Option(names = "--images-per-class", defaultValue = "150",
            description = "Images per class, 10 classes (default: ${DEFAULT-VALUE}, the demo's).")
    int imagesPerClass;

    @Override
    public Integer call() {
        if (imageSize < 8 || imagesPerClass < 1) {
            throw new IllegalArgumentException("--image-size must be at least 8 and --images-per-class at least 1");
        }
        SparkSession spark = startSpark("sparkvit bench dataset");
        try {
            IngestResult result = EmbeddedDataset.write(spark, output, imageSize, imagesPerClass, Seeds.DEFAULT);
            System.out.println("sparkvit bench dataset: " + result.stored() + " new images -> "
                    + output.resolve("dataset").toAbsolutePath());
            return ExitCodes.OK;
        } finally {
            spark.stop();
        }
    }
}
