package dev.sparkvit.cli;

import dev.sparkvit.jobs.evaluate.EvaluateJob;
import dev.sparkvit.storage.Locations;
import dev.sparkvit.storage.RunFolder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code sparkvit evaluate}: metrics, confusion matrices and an HTML report of a fine-tuning run. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Evaluate a fine-tuning run's live and EMA classifiers on a labelled split, without and with "
                + "test-time augmentation: metrics.json, confusion-*.png and one self-contained report.html.")
final class EvaluateCommand extends SparkCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, description = "output_dir of a finished sparkvit finetune run (local, "
            + "hdfs://, s3a://).")
    String run;

    @Option(names = "--baseline", description = "Another run to report beside it (e.g. the from-scratch one).")
    String baseline;

    @Option(names = "--dataset", description = "Dataset folder (default: the one the run trained on).")
    String dataset;

    @Mixin
    SnapshotOption snapshot;

    @Option(names = "--split", defaultValue = "test", description = "Labelled split to evaluate (default: test).")
    String split;

    @Option(names = "--tta-views", split = ",", description = "Test-time views, from identity, flip, crops "
            + "(default: the run's evaluation.tta_views).")
    List<String> ttaViews;

    @Option(names = "--no-tta", description = "Evaluate without test-time augmentation.")
    boolean noTta;

    @Option(names = "--output", description = "Folder for the metrics and report (default: RUN/evaluation).")
    String output;

    /** What evaluate reads of a run folder: its weights, curves and history, not its checkpoints or events. */
    private static boolean readByEvaluate(String rel) {
        return !rel.startsWith("checkpoints") && !rel.startsWith("tensorboard");
    }

    /** A run folder (remote ones through a working copy of what evaluate reads), checked before Spark starts. */
    private static RunFolder runFolder(String option, String location) {
        RunFolder folder = RunFolder.open(location, Locations.hadoop(), EvaluateCommand::readByEvaluate);
        if (!Files.isDirectory(folder.local())) {
            throw new IllegalArgumentException(option + " " + location + ": run folder does not exist");
        }
        EvaluateJob.models(folder.local()); // its weights files read and checked: a damaged one is named now
        return folder;
    }

    @Override
    public Integer call() {
        RunFolder runFolder = runFolder("--run", run);
        RunFolder baselineFolder = baseline == null ? null : runFolder("--baseline", baseline);
        if (!List.of("train", "val", "test").contains(split)) {
            throw new IllegalArgumentException("--split " + split + ": expected train, val or test");
        }
        List<String> views = noTta ? List.of("identity") : ttaViews;
        if (views != null) {
            new dev.sparkvit.jobs.inference.TtaViews(views); // rejects unknown names now
        }
        // the report goes into the run folder (published with it) or into --output (a folder of its own)
        RunFolder outFolder = output == null ? runFolder : RunFolder.open(output, Locations.hadoop(), rel -> false);
        Path out = output == null ? runFolder.local().resolve("evaluation") : outFolder.local();
        if (snapshot.asOf != null && dataset == null) {
            throw new IllegalArgumentException("--as-of " + snapshot.asOf + " needs --dataset (or give --snapshot ID: "
                    + "sparkvit snapshots --dataset DIR lists them)");
        }
        Long snapshotId = snapshot.id(dataset);
        SparkSession spark = startSpark("sparkvit evaluate");
        try {
            EvaluateJob.Result r = new EvaluateJob(new EvaluateJob.Settings(runFolder.local(),
                    baselineFolder == null ? null : baselineFolder.local(), dataset, split, views, out,
                    runFolder.location(), baselineFolder == null ? null : baselineFolder.location()), System.out)
                    .snapshot(snapshotId).execute(spark);
            outFolder.publish();
            System.out.println("sparkvit evaluate: " + r.images() + " images, " + r.variants().size()
                    + " variants");
            System.out.println("  metrics: " + outFolder.describe(r.metrics()));
            System.out.println("  report:  " + outFolder.describe(r.report()));
            return ExitCodes.OK;
        } finally {
            spark.stop();
        }
    }
}
