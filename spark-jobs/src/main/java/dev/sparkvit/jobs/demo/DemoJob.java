package dev.sparkvit.jobs.demo;

import com.intel.analytics.bigdl.dllib.feature.dataset.Sample;
import dev.sparkvit.data.ClassificationSamples;
import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestResult;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.data.ingest.Manifest;
import dev.sparkvit.data.ingest.StoredImageSchema;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.data.pairs.PairPreview;
import dev.sparkvit.engine.Criteria;
import dev.sparkvit.engine.DistributedTraining;
import dev.sparkvit.engine.OptimMethods;
import dev.sparkvit.engine.Seeds;
import dev.sparkvit.engine.Triggers;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitPresets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * End-to-end demo of what exists so far: writes the embedded ten-class image dataset, ingests it into a Parquet
 * dataset (validation, deduplication, manifest; incremental, so a re-run adds nothing), writes a contact sheet of
 * SimCLR pairs, and trains the {@code vit_nano_patch4_32} Vision Transformer (LayerScale on) as a classifier on the
 * train split with DistriOptimizer and DLlib's Adam, logging the loss of every epoch. (AdamW with warmup and cosine
 * decay arrives with pretraining.)
 */
public final class DemoJob {
    private static final Logger LOG = LoggerFactory.getLogger(DemoJob.class);

    private final DemoSettings settings;

    public DemoJob(DemoSettings settings) {
        this.settings = settings;
    }

    public DemoResult execute(SparkSession spark) {
        Path rawDir = settings.outputDir().resolve("raw");
        Path datasetDir = settings.outputDir().resolve("dataset");
        Path tensorboardDir = settings.outputDir().resolve("tensorboard");

        spark.sparkContext().setJobGroup("demo:generate", "write the embedded image dataset", false);
        int written = new SyntheticImageFolder(settings.imageSize(), settings.imagesPerClass(), settings.seed())
                .writeTo(rawDir);
        LOG.info("stage generate: {} images of {}x{} in {} classes under {}", written, settings.imageSize(),
                settings.imageSize(), SyntheticImageFolder.CLASSES.size(), rawDir);

        boolean existing = Files.exists(datasetDir.resolve(StoredImageSchema.MANIFEST_FILE));
        IngestResult ingest = new IngestJob(IngestSettings.defaults(rawDir.toString(), datasetDir.toString())
                .withStoredSize(settings.imageSize()).withIncremental(existing)).execute(spark);
        Manifest manifest = ingest.manifest();
        Normalize normalize = StoredImages.normalization(manifest);

        Path pairsPng = settings.outputDir().resolve("pairs.png");
        spark.sparkContext().setJobGroup("demo:pairs", "contact sheet of SimCLR pairs", false);
        int pairs = PairPreview.write(spark, datasetDir.toString(), manifest, Seeds.DEFAULT, 8, 0, pairsPng);
        LOG.info("stage pairs: {} SimCLR pairs -> {}", pairs, pairsPng);

        spark.sparkContext().setJobGroup("demo:train", "train the ViT with DistriOptimizer", false);
        JavaRDD<Sample<Float>> samples = ClassificationSamples
                .of(StoredImages.read(spark, datasetDir.toString(), "train"), normalize).cache();
        long count = samples.count();
        VisionTransformer vit = VisionTransformer.classifier(VitPresets.get("vit_nano_patch4_32")
                .withImgSize(settings.imageSize()), manifest.classes().size(), settings.seed());
        LOG.info("stage train: {} train images, {}", count, vit);
        int perEpoch = iterationsPerEpoch(count, settings.batchSize());
        DistributedTraining training = DistributedTraining.of(vit.module(), samples.rdd(), Criteria.crossEntropy(),
                        settings.batchSize())
                .optimMethod(OptimMethods.adam(settings.learningRate()))
                .endWhen(Triggers.maxIteration(settings.epochs() * perEpoch))
                .summary(tensorboardDir, runName());
        training.optimize();
        float[] losses = training.lossHistory();
        training.close();
        samples.unpersist(false);

        float[] epochMeans = epochMeans(losses, perEpoch);
        for (int e = 0; e < epochMeans.length; e++) {
            LOG.info("stage train: epoch {}/{} mean loss {}", e + 1, settings.epochs(),
                    String.format("%.4f", epochMeans[e]));
        }
        return new DemoResult(datasetDir, ingest, count, losses, epochMeans, pairsPng, tensorboardDir);
    }

    /** A TensorBoard run folder of its own for every run, so runs appear side by side and never mix. */
    private static String runName() {
        return "demo-" + java.time.LocalDateTime.now().format(java.time.format.DateTimeFormatter
                .ofPattern("yyyyMMdd-HHmmss-SSS"));
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
