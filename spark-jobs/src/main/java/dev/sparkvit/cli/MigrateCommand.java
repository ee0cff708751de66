package dev.sparkvit.cli;

import dev.sparkvit.data.ingest.DatasetMigration;
import dev.sparkvit.lock.FolderLock;
import dev.sparkvit.lock.LockSubject;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sparkvit migrate}: a dataset of the folder format of an earlier sparkvit into the dataset table, once. */
@Command(name = "migrate", mixinStandardHelpOptions = true,
        description = "Move a dataset of the folder format (manifest.json, images/) into its dataset table, in one commit.")
final class MigrateCommand extends SparkCommand implements Callable<Integer> {
    @Option(names = "--dataset", required = true, description = "Dataset folder written by an earlier sparkvit ingest.")
    String dataset;

    @Override
    public Integer call() throws Exception {
        dev.sparkvit.config.PathChecks.requireFolder("--dataset", dataset);
        java.util.function.Consumer<String> say = line -> System.out.println("sparkvit migrate: " + line);
        try (FolderLock lock = FolderLock.acquire(LockSubject.DATASET, dataset, "--dataset", hadoopConfiguration(),
                say)) {
            SparkSession spark = startSpark("sparkvit migrate");
            try {
                lock.ensureHeld();
                DatasetMigration.migrate(spark, dataset, say);
                return ExitCodes.OK;
            } finally {
                spark.stop();
            }
        }
    }
}
