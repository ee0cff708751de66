package dev.sparkvit.jobs.demo;

import com.intel.analytics.bigdl.dllib.feature.dataset.Sample;
import dev.sparkvit.data.Pixels;
import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.engine.Criteria;
import dev.sparkvit.engine.DistributedTraining;
import dev.sparkvit.engine.OptimMethods;
import dev.sparkvit.engine.Samples;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.engine.Triggers;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitPresets;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * End-to-end demo of what exists so far: writes the embedded synthetic image dataset, reads it back with Spark's
 * {@code binaryFile} source (the same code path works on local, HDFS and S3A paths), decodes the images on the
 * executors into DLlib samples and trains the {@code vit_nano_patch4_32} Vision Transformer (LayerScale on) as a
 * classifier with DistriOptimizer, logging the loss of every epoch. Plain SGD with momentum for now: AdamW with
 * warmup arrives with pretraining.
 */
public final class DemoJob {
    private static final Logger LOG = LoggerFactory.getLogger(DemoJob.class);

    private final DemoSettings settings;

    public DemoJob(DemoSettings settings) {
        this.settings = settings;
    }

    public DemoResult execute(SparkSession spark) {
        Path datasetDir = settings.outputDir().resolve("images");
        Path tensorboardDir = settings.outputDir().resolve("tensorboard");

        spark.sparkContext().setJobGroup("demo:generate", "write the synthetic image dataset", false);
        int written = new SyntheticImageFolder(settings.imageSize(), settings.imagesPerClass(), settings.seed())
                .writeTo(datasetDir);
        LOG.info("stage generate: {} images of {}x{} in {} classes under {}", written, settings.imageSize(),
                settings.imageSize(), SyntheticImageFolder.CLASSES.size(), datasetDir);

        spark.sparkContext().setJobGroup("demo:decode", "read and decode the images", false);
        JavaRDD<Sample<Float>> samples = decodedSamples(spark, datasetDir, settings.imageSize()).cache();
        long count = samples.count();
        LOG.info("stage decode: {} images read back through Spark binaryFile", count);

        spark.sparkContext().setJobGroup("demo:train", "train with DistriOptimizer", false);
        VisionTransformer vit = VisionTransformer.classifier(VitPresets.get("vit_nano_patch4_32")
                .withImgSize(settings.imageSize()), SyntheticImageFolder.CLASSES.size(), settings.seed());
        LOG.info("stage train: {}", vit);
        DistributedTraining training = DistributedTraining.of(vit.module(), samples.rdd(), Criteria.crossEntropy(),
                        settings.batchSize())
                .optimMethod(OptimMethods.sgd(settings.learningRate(), 0.9))
                .endWhen(Triggers.maxIteration(settings.epochs() * iterationsPerEpoch(count, settings.batchSize())))
                .summary(tensorboardDir, "demo");
        training.optimize();
        float[] losses = training.lossHistory();
        training.close();
        samples.unpersist(false);

        float[] epochMeans = epochMeans(losses, iterationsPerEpoch(count, settings.batchSize()));
        for (int e = 0; e < epochMeans.length; e++) {
            LOG.info("stage train: epoch {}/{} mean loss {}", e + 1, settings.epochs(),
                    String.format("%.4f", epochMeans[e]));
        }
        return new DemoResult(datasetDir, count, losses, epochMeans, tensorboardDir);
    }

    /** One DLlib sample per image: channels-first pixels in [-1, 1], 1-based class label from the folder name. */
    static JavaRDD<Sample<Float>> decodedSamples(SparkSession spark, Path root, int imageSize) {
        List<String> classes = SyntheticImageFolder.CLASSES;
        JavaRDD<Row> rows = spark.read().format("binaryFile")
                .option("pathGlobFilter", "*.png")
                .option("recursiveFileLookup", "true")
                .load(root.toUri().toString())
                .select("path", "content")
                .orderBy("path")
                .javaRDD();
        return rows.map(row -> {
            String path = row.getString(0);
            String[] parts = path.split("/");
            int label = classes.indexOf(parts[parts.length - 2]);
            if (label < 0) {
                throw new IllegalStateException(path + " is not under one of the class folders " + classes);
            }
            float[] pixels = Pixels.toChwFloats(Pixels.decode((byte[]) row.get(1), path));
            if (pixels.length != 3 * imageSize * imageSize) {
                throw new IllegalStateException(path + " is not " + imageSize + "x" + imageSize);
            }
            return Samples.labelled(Tensors.of(pixels, 3, imageSize, imageSize), label + 1);
        });
    }

    /**
     * Iterations in one pass over {@code images}. DLlib's own epoch trigger does not end epochs on exact batch
     * boundaries (40 epochs of 256 images in batches of 16 ran 688 iterations, not 640), so the demo counts
     * iterations itself and an epoch is exactly this many.
     */
    static int iterationsPerEpoch(long images, int batchSize) {
        return (int) ((images + batchSize - 1) / batchSize);
    }

    /** Mean loss of each consecutive run of {@code perEpoch} iterations. */
    static float[] epochMeans(float[] losses, int perEpoch) {
        int epochs = (losses.length + perEpoch - 1) / perEpoch;
        float[] means = new float[epochs];
        for (int e = 0; e < epochs; e++) {
            int from = e * perEpoch;
            int to = Math.min(losses.length, from + perEpoch);
            float sum = 0;
            for (int i = from; i < to; i++) {
                sum += losses[i];
            }
            means[e] = sum / (to - from);
        }
        return means;
    }
}
