package dev.sparkvit.jobs.demo;

import com.intel.analytics.bigdl.dllib.feature.dataset.Sample;
import com.intel.analytics.bigdl.dllib.nn.Sequential;
import dev.sparkvit.data.Pixels;
import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.engine.Criteria;
import dev.sparkvit.engine.DistributedTraining;
import dev.sparkvit.engine.Layers;
import dev.sparkvit.engine.OptimMethods;
import dev.sparkvit.engine.Samples;
import dev.sparkvit.engine.Seeds;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.engine.Triggers;
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
 * executors into DLlib samples and trains a small convolutional network with DistriOptimizer, logging the loss of
 * every epoch.
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
        Sequential<Float> model = network(settings.imageSize(), SyntheticImageFolder.CLASSES.size(), settings.seed());
        DistributedTraining training = DistributedTraining.of(model, samples.rdd(), Criteria.classNll(),
                        settings.batchSize())
                .optimMethod(OptimMethods.sgd(settings.learningRate(), 0.9))
                .endWhen(Triggers.maxEpoch(settings.epochs()))
                .summary(tensorboardDir, "demo");
        training.optimize();
        float[] losses = training.lossHistory();
        training.close();
        samples.unpersist(false);

        float[] epochMeans = epochMeans(losses, settings.epochs());
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

    /** Two stride-2 convolutions and a linear classifier. Stand-in until the ViT exists. */
    static Sequential<Float> network(int imageSize, int classes, long seed) {
        Seeds.seedWeightInit(seed);
        int reduced = imageSize / 4;
        Sequential<Float> model = Layers.sequential();
        model.add(Layers.conv2d(3, 16, 3, 2, 1));
        model.add(Layers.relu());
        model.add(Layers.conv2d(16, 32, 3, 2, 1));
        model.add(Layers.relu());
        model.add(Layers.reshapeBatched(32 * reduced * reduced));
        model.add(Layers.linear(32 * reduced * reduced, classes));
        model.add(Layers.logSoftMax());
        return model;
    }

    /** Mean loss of each epoch, the iterations split evenly (DistriOptimizer runs the same count every epoch). */
    static float[] epochMeans(float[] losses, int epochs) {
        float[] means = new float[epochs];
        int perEpoch = Math.max(1, losses.length / epochs);
        for (int e = 0; e < epochs; e++) {
            int from = e * perEpoch;
            int to = e == epochs - 1 ? losses.length : Math.min(losses.length, from + perEpoch);
            float sum = 0;
            for (int i = from; i < to; i++) {
                sum += losses[i];
            }
            means[e] = to > from ? sum / (to - from) : Float.NaN;
        }
        return means;
    }
}
