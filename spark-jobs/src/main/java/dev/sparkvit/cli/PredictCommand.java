package dev.sparkvit.cli;

import dev.sparkvit.jobs.predict.PredictJob;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code sparkvit predict}: distributed batch inference to Parquet. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = "Predict the classes of an ingested dataset's images or of a folder of image files on the "
                + "executors, writing OUTPUT/predictions (path, top_labels, top_probabilities) and OUTPUT/rejects "
                + "(path, reason, detail: files that are not readable images) as Parquet.")
final class PredictCommand extends SparkCommand implements Callable<Integer> {
    @Option(names = "--model", required = true,
            description = "Classifier weights written by sparkvit finetune (finetuned-ema.safetensors or "
                    + "finetuned.safetensors; local, hdfs://, s3a://).")
    String model;

    @Option(names = "--preset", description = "For weights that do not record it (a timm checkpoint): the model "
            + "preset (see model-summary).")
    String preset;

    @Option(names = "--classes", description = "For weights that do not record them (a timm checkpoint): a text "
            + "file of class names, one a line, in the head's order.")
    String classes;

    @Option(names = "--normalize", description = "Input normalisation, for weights that do not record their dataset: "
            + "imagenet, dataset:PATH (that dataset's mean and std), mean,std or r,g,b,r,g,b (pixels in [0, 1]).")
    String normalize;

    @Option(names = "--input", required = true,
            description = "An ingested dataset folder, or a folder of image files (local, hdfs://, s3a://).")
    String input;

    @Mixin
    SnapshotOption snapshot;

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
        java.nio.file.Path modelFile = dev.sparkvit.storage.LocalCopies.of("--model", model);
        java.nio.file.Path classesFile = classes == null ? null
                : dev.sparkvit.storage.LocalCopies.of("--classes", classes);
        String notAFile = dev.sparkvit.config.PathChecks.notAFile(modelFile);
        if (notAFile != null) { // before Spark starts
            throw new IllegalArgumentException("--model " + model + " " + notAFile);
        }
        new dev.sparkvit.jobs.inference.TtaViews(ttaViews); // rejects unknown view names now
        // read and checked now (a damaged or foreign file is named before Spark starts)
        dev.sparkvit.jobs.inference.ClassifierWeights.Given given =
                new dev.sparkvit.jobs.inference.ClassifierWeights.Given(preset, classesFile);
        int classCount = dev.sparkvit.jobs.inference.ClassifierWeights.load(modelFile, given).classes().size();
        if (normalize != null && !normalize.startsWith("dataset:")) {
            PredictJob.parseNormalize(null, normalize); // a malformed value is named before Spark starts
        }
        int k = topK != null ? topK : Math.min(5, classCount);
        Long snapshotId = snapshot.id(input);
        SparkSession spark = startSpark("sparkvit predict");
        try {
            PredictJob.Result r = new PredictJob(new PredictJob.Settings(modelFile, input, split, output, k, ttaViews,
                    given, normalize), System.out).snapshot(snapshotId).execute(spark);
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
