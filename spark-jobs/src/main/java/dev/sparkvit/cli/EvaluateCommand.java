package dev.sparkvit.cli;

import dev.sparkvit.jobs.evaluate.EvaluateJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sparkvit evaluate}: metrics, confusion matrices and an HTML report of a fine-tuning run. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Evaluate a fine-tuning run's live and EMA classifiers on a labelled split, without and with "
                + "test-time augmentation: metrics.json, confusion-*.png and one self-contained report.html.")
final class EvaluateCommand extends SparkCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, description = "output_dir of a finished sparkvit finetune run.")
    Path run;

    @Option(names = "--baseline", description = "Another run to report beside it (e.g. the from-scratch one).")
    Path baseline;

    @Option(names = "--dataset", description = "Dataset folder (default: the one the run trained on).")
    String dataset;

    @Option(names = "--split", defaultValue = "test", description = "Labelled split to evaluate (default: test).")
    String split;

    @Option(names = "--tta-views", split = ",", description = "Test-time views, from identity, flip, crops "
            + "(default: the run's evaluation.tta_views).")
    List<String> ttaViews;

    @Option(names = "--no-tta", description = "Evaluate without test-time augmentation.")
    boolean noTta;

    @Option(names = "--output", description = "Folder for the metrics and report (default: RUN/evaluation).")
    Path output;

    @Override
    public Integer call() {
        for (Path dir : baseline == null ? List.of(run) : List.of(run, baseline)) { // before Spark starts
            if (!Files.isDirectory(dir)) {
                throw new IllegalArgumentException("run folder " + dir + " does not exist");
            }
            EvaluateJob.models(dir); // its weights files read and checked: a damaged one is named now
        }
        if (!List.of("train", "val", "test").contains(split)) {
            throw new IllegalArgumentException("--split " + split + ": expected train, val or test");
        }
        List<String> views = noTta ? List.of("identity") : ttaViews;
        if (views != null) {
            new dev.sparkvit.jobs.inference.TtaViews(views); // rejects unknown names now
        }
        Path out = output != null ? output : run.resolve("evaluation");
        SparkSession spark = startSpark("sparkvit evaluate");
        try {
            EvaluateJob.Result r = new EvaluateJob(new EvaluateJob.Settings(run.toAbsolutePath(),
                    baseline == null ? null : baseline.toAbsolutePath(), dataset, split, views, out), System.out)
                    .execute(spark);
            System.out.println("sparkvit evaluate: " + r.images() + " images, " + r.variants().size()
                    + " variants");
            System.out.println("  metrics: " + r.metrics());
            System.out.println("  report:  " + r.report());
            return ExitCodes.OK;
        } finally {
            spark.stop();
        }
    }
}
