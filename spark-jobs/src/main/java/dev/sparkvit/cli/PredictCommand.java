package dev.sparkvit.cli;

import dev.sparkvit.jobs.predict.PredictJob;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sparkvit predict}: distributed batch inference to Parquet. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = "Predict the classes of an ingested dataset's images or of a folder of image files on the "
                + "executors, writing OUTPUT/predictions (path, top_labels, top_probabilities) and OUTPUT/rejects "
                + "(path, reason, detail: files that are not readable images) as Parquet.")
final class PredictCommand extends SparkCommand implements Callable<Integer> {
    @Option(names = "--model", required = true,
            description = "Classifier weights written by sparkvit finetune (finetuned-ema.safetensors or "
                    + "finetuned.safetensors).")
    Path model;

    @Option(names = "--input", required = true,
            description = "An ingested dataset folder, or a folder of image files (local, hdfs://, s3a://).")
    String input;

    @Option(names = "--split", description = "For a dataset input: predict only this split (default: all).")
    String split;

    @Option(names = "--output", required = true, description = "New folder for the Parquet tables.")
    String output;

    @Option(names = "--top-k", description = "Labels kept per image (default: 5, or the class count if fewer).")
    Integer topK;

    @Option(names = "--tta-views", split = ",", defaultValue = "identity",
            description = "Test-time views from identity, flip, crops (default: identity, no TTA).")
    List<String> ttaViews;

    @Override
    public Integer call() {
        String notAFile = dev.sparkvit.config.PathChecks.notAFile(model);
        if (notAFile != null) { // before Spark starts
            throw new IllegalArgumentException("--model " + model + " " + notAFile);
        }
        new dev.sparkvit.jobs.inference.TtaViews(ttaViews); // rejects unknown view names now
        // read and checked now (a damaged or foreign file is named before Spark starts)
        int classes = dev.sparkvit.jobs.inference.ClassifierWeights.load(model).classes().size();
        int k = topK != null ? topK : Math.min(5, classes);
        SparkSession spark = startSpark("sparkvit predict");
        try {
            PredictJob.Result r = new PredictJob(new PredictJob.Settings(model, input, split, output, k, ttaViews),
                    System.out).execute(spark);
            System.out.printf("sparkvit predict: %d inputs: %d predicted, %d rejected%n", r.listed(), r.predicted(),
                    r.rejected());
            System.out.println("  predictions: " + r.predictions());
            System.out.println("  rejects:     " + r.rejects());
            return ExitCodes.OK;
        } finally {
            spark.stop();
        }
    }
}
