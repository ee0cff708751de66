package dev.sparkvit.cli;

import dev.sparkvit.data.augment.Augmentations;
import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.image.FloatImage;
import dev.sparkvit.data.image.RgbImage;
import dev.sparkvit.data.ingest.Manifest;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.data.pairs.ContactSheet;
import dev.sparkvit.data.pairs.PairGenerator;
import dev.sparkvit.engine.Seeds;
import dev.sparkvit.jobs.demo.DemoJob;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Row;
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
        SparkSession spark = startSpark("sparkvit pairs");
        try {
            Manifest manifest = StoredImages.manifest(spark, dataset);
            Normalize normalize = DemoJob.normalization(manifest);
            PairGenerator generator = new PairGenerator(Augmentations.simclr(manifest.storedSize(), normalize), seed);
            List<ContactSheet.Row> rows = new ArrayList<>();
            for (Row row : StoredImages.read(spark, dataset, "train").orderBy("id").limit(count).collectAsList()) {
                RgbImage image = StoredImages.image(row);
                FloatImage[] views = generator.pair(row.getString(row.fieldIndex("id")), image, epoch);
                rows.add(new ContactSheet.Row(image, views[0], views[1]));
            }
            ContactSheet.write(output, rows, normalize, Math.max(96, manifest.storedSize()));
            System.out.println("sparkvit pairs: " + rows.size() + " pairs (original, view 1, view 2) -> "
                    + output.toAbsolutePath());
            return ExitCodes.OK;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + output, e);
        } finally {
            spark.stop();
        }
    }
}
