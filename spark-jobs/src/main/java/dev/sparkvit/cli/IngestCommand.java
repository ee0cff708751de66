package dev.sparkvit.cli;

import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestResult;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.lock.FolderLock;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sparkvit ingest}: an image tree into a validated, deduplicated Parquet dataset. */
@Command(name = "ingest", mixinStandardHelpOptions = true,
        description = "Validate, deduplicate, resize and store an image tree (local, hdfs://, s3a://) as Parquet.")
final class IngestCommand extends SparkCommand implements Callable<Integer> {
    @Option(names = "--input", required = true, description = "Root of the image tree (ImageFolder: root/<class>/<file>).")
    String input;

    @Option(names = "--output", required = true, description = "Dataset folder to create or, with --incremental, extend.")
    String output;

    @Option(names = "--unlabelled", description = "Images are not in class folders.")
    boolean unlabelled;

    @Option(names = "--incremental", description = "Add only files whose content is not in the dataset yet.")
    boolean incremental;

    @Option(names = "--stored-size", defaultValue = "32", description = "Side of stored images (default: ${DEFAULT-VALUE}).")
    int storedSize;

    @Option(names = "--min-size", defaultValue = "8", description = "Smallest accepted shorter side (default: ${DEFAULT-VALUE}).")
    int minSize;

    @Option(names = "--max-pixels", defaultValue = "100000000",
            description = "Largest accepted width x height, checked before decoding (default: ${DEFAULT-VALUE}).")
    long maxPixels;

    @Option(names = "--max-file-bytes", defaultValue = "67108864",
            description = "Largest accepted file size (default: ${DEFAULT-VALUE}).")
    long maxFileBytes;

    @Option(names = "--shards", defaultValue = "4", description = "Parquet files per run (default: ${DEFAULT-VALUE}).")
    int shards;

    @Override
    public Integer call() {
        IngestSettings settings = new IngestSettings(input, output, !unlabelled, storedSize, minSize, maxPixels,
                maxFileBytes, shards, 0.8, 0.1, incremental);
        IngestJob.checkPaths(settings, "--input", "--output"); // before Spark starts and before any decoding
        java.util.function.Consumer<String> say = line -> System.out.println("sparkvit ingest: " + line);
        // the dataset's lock next: a second writer of the dataset exits at once, before Spark starts
        try (FolderLock lock = IngestJob.lock(settings, "--output", hadoopConfiguration(), say)) {
            SparkSession spark = startSpark("sparkvit ingest");
            try {
                IngestResult r = new IngestJob(settings, say).execute(spark, lock);
                System.out.printf("sparkvit ingest: %d files: %d stored, %d duplicates, %d quarantined %s, %d "
                        + "already present%n  dataset: %s (%d images)%n", r.inputFiles(), r.stored(), r.duplicates(),
                        r.quarantined(), r.rejectsByReason(), r.alreadyPresent(), output, r.manifest().images());
                return ExitCodes.OK;
            } finally {
                spark.stop();
            }
        }
    }
}
