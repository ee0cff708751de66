package dev.sparkvit.cli;

import dev.sparkvit.jobs.retrain.ModelRegistry;
import dev.sparkvit.jobs.retrain.RetrainConfig;
import dev.sparkvit.lock.FolderLock;
import dev.sparkvit.jobs.retrain.RetrainJob;
import dev.sparkvit.jobs.retrain.RetrainSettings;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code sparkvit retrain}: incremental ingest, fine-tune, evaluate, promote only if better. */
@Command(name = "retrain", mixinStandardHelpOptions = true,
        description = "Scheduled retraining: ingest new images, fine-tune a candidate (warm start from production), "
                + "score it and production on the same held-out split, register it, and promote it only if it "
                + "beats production by the configured margin. Exit codes: 0 promoted, 3 not promoted (gate not "
                + "met, or nothing new), 4 registry locked by another run, 5 training stopped at a non-finite loss or "
                + "gradient (the candidate's checkpoints are kept), 2 bad config, 1 internal failure.")
final class RetrainCommand extends SparkCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions options;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--status", description = "Print the registry (lock, production, every version, damaged ones "
            + "marked) and exit; runs nothing.")
    boolean status;

    @Override
    public Integer call() {
        // validated before Spark starts
        RetrainSettings settings = RetrainConfig.read(options.load(List.of()));
        ModelRegistry registry = ModelRegistry.open(settings.registry(), hadoopConfiguration());
        if (status) {
            java.io.PrintWriter out = spec.commandLine().getOut();
            out.println("registry " + registry.location() + ": " + registry.lockState());
            registry.describe().forEach(line -> out.println("  " + line));
            out.flush();
            return ExitCodes.OK;
        }
        // the lock first: a second run exits at once, before Spark starts, and the registry is checked under it
        try (FolderLock lock = registry.lock(line -> System.out.println("retrain: warning: " + line))) {
            registry.check(line -> { });
            SparkSession spark = startSpark("sparkvit retrain");
            try {
                RetrainJob.Result r = new RetrainJob(settings, System.out).execute(spark, lock);
                System.out.println("sparkvit retrain: " + r.outcome().name().toLowerCase(java.util.Locale.ROOT)
                        + ", version " + r.version() + ", production " + r.production());
                registry.describe().forEach(line -> System.out.println("  " + line));
                return r.outcome() == RetrainJob.Outcome.PROMOTED ? ExitCodes.OK : ExitCodes.NOT_PROMOTED;
            } finally {
                spark.stop();
            }
        }
    }
}
