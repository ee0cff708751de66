package dev.sparkvit.cli;

import dev.sparkvit.data.ingest.DatasetSnapshot;
import dev.sparkvit.data.ingest.Manifest;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.engine.Seeds;
import dev.sparkvit.jobs.probe.LinearProbe;
import dev.sparkvit.jobs.probe.ProbeEncoder;
import dev.sparkvit.model.vit.VisionTransformer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code sparkvit linear-probe}: the pretraining probe on any weights file or checkpoint. */
@Command(name = "linear-probe", mixinStandardHelpOptions = true,
        description = "Fit a linear probe (Spark MLlib logistic regression) on frozen encoder features of a dataset's "
                + "train split and report val accuracy, for a weights file or a checkpoint (its EMA weights).")
final class LinearProbeCommand extends SparkCommand implements Callable<Integer> {
    @Option(names = "--dataset", required = true, description = "Dataset folder written by sparkvit ingest.")
    String dataset;

    @Mixin
    SnapshotOption snapshot;

    @Option(names = "--weights", required = true,
            description = "A .safetensors weights file, a checkpoint folder (iter-N) or a checkpoints folder (local, "
                    + "hdfs://, s3a://).")
    String weights;

    @Option(names = "--preset", description = "Model preset (default: the one recorded with the weights).")
    String preset;

    @Option(names = "--baseline", description = "Also probe the randomly initialised encoder of the same preset.")
    boolean baseline;

    @Override
    public Integer call() {
        Path weightsFile = dev.sparkvit.storage.LocalCopies.of("--weights", weights);
        if (!java.nio.file.Files.exists(weightsFile)) { // before Spark starts
            throw new IllegalArgumentException("--weights " + weights + " does not exist");
        }
        ProbeEncoder.check(weightsFile); // a damaged weights file or checkpoint is named before Spark starts
        Long snapshotId = snapshot.id(dataset);
        SparkSession spark = startSpark("sparkvit linear-probe");
        try {
            DatasetSnapshot data = StoredImages.snapshot(spark, dataset, snapshotId);
            Manifest manifest = StoredImages.manifest(spark, data);
            // the encoder at the size it was trained for; the stored images are resized to it (LinearProbe)
            VisionTransformer encoder = ProbeEncoder.load(weightsFile, preset);
            spark.sparkContext().setJobGroup("linear-probe:encoder", "linear probe of " + weights, false);
            LinearProbe.Result result = LinearProbe.run(spark, encoder, data,
                    StoredImages.normalization(manifest));
            System.out.println("sparkvit linear-probe: " + weights + " on dataset " + data);
            System.out.println("  encoder          " + result);
            if (baseline) {
                VisionTransformer random = VisionTransformer.encoderOnly(encoder.config(), Seeds.DEFAULT);
                spark.sparkContext().setJobGroup("linear-probe:baseline", "linear probe of a random encoder", false);
                System.out.println("  random encoder   " + LinearProbe.run(spark, random, data,
                        StoredImages.normalization(manifest)));
            }
            return ExitCodes.OK;
        } finally {
            spark.stop();
        }
    }
}
