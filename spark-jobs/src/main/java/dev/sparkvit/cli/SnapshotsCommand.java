package dev.sparkvit.cli;

import dev.sparkvit.data.ingest.SnapshotLog;
import dev.sparkvit.data.ingest.StoredImages;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sparkvit snapshots}: a dataset's snapshots, for {@code --snapshot ID} and {@code --as-of TIME}. */
@Command(name = "snapshots", mixinStandardHelpOptions = true,
        description = "List a dataset's table snapshots, oldest first: id, when it was committed (UTC), the "
                + "operation and the images it holds; '*' marks the current one.")
final class SnapshotsCommand implements Callable<Integer> {
    @Option(names = "--dataset", required = true, description = "Dataset written by sparkvit ingest (local path, "
            + "hdfs:// or s3a://).")
    String dataset;

    @Override
    public Integer call() {
        SnapshotLog log = StoredImages.snapshotLog("--dataset", dataset, SparkCommand.hadoopConfiguration());
        for (SnapshotLog.Entry entry : log.entries()) {
            System.out.printf("%s %d  %s  %-9s %s%n", entry.id() == log.current() ? "*" : " ", entry.id(),
                    entry.committed(), entry.operation(), entry.images() < 0 ? "-" : entry.images() + " images");
        }
        return ExitCodes.OK;
    }
}
