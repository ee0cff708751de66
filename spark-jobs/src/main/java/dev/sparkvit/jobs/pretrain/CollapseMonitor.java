package dev.sparkvit.jobs.pretrain;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.image.FloatImage;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.model.vit.Head;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Watches SimCLR for collapse: the mean pairwise cosine similarity of the projections of a fixed set of train images
 * (the first {@link #IMAGES} by id, unaugmented), and the NT-Xent loss against its chance value {@code ln(2n - 1)}
 * for {@code n} images per replica (every anchor's softmax spread evenly over its {@code 2n - 1} candidates). A model
 * whose projections all point one way (cosine near 1) sits at the chance value and its gradients vanish; on the
 * digits the nano preset with LayerScale 0.1 and no BatchNorm in its head started at cosine 0.9999 and never left.
 */
final class CollapseMonitor {
    /** Images whose projections are compared: a constant, whatever the dataset's size. */
    static final int IMAGES = 64;
    /** A mean epoch loss within this of the chance value, after {@link #graceEpochs}, is reported. */
    static final double NEAR_CHANCE = 0.05;

    private final Tensor<Float> images;
    private final VisionTransformer copy;
    private final double chance;
    private final int graceEpochs;
    private boolean warned;

    /** @param images and {@code copy} may be null where no cosine is computed (tests of the warning) */
    CollapseMonitor(Tensor<Float> images, VisionTransformer copy, double chance, int graceEpochs) {
        this.images = images;
        this.copy = copy;
        this.chance = chance;
        this.graceEpochs = graceEpochs;
    }

    /**
     * @param imagesPerReplica images of one replica's slice of the batch (each gives two views)
     * @param graceEpochs epochs after which a loss still near chance is reported (the warmup at least)
     */
    static CollapseMonitor of(SparkSession spark, dev.sparkvit.data.ingest.DatasetSnapshot dataset,
            Normalize normalize, VitConfig config, Head head, int imagesPerReplica, int graceEpochs) {
        List<Row> rows = StoredImages.read(spark, dataset, "train").orderBy("id").limit(IMAGES)
                .select("height", "width", "pixels").collectAsList();
        int n = rows.size();
        int h = config.imgSize();
        int w = config.imgSize();
        float[] pixels = new float[n * 3 * h * w];
        for (int i = 0; i < n; i++) {
            FloatImage image = normalize.apply(StoredImages.image(rows.get(i), h), new SplittableRandom(0));
            System.arraycopy(image.data(), 0, pixels, i * 3 * h * w, 3 * h * w);
        }
        return new CollapseMonitor(Tensors.of(pixels, n, 3, h, w), VisionTransformer.of(config, head, 0),
                chance(imagesPerReplica), graceEpochs);
    }

    /** NT-Xent's value when every candidate is as likely: {@code ln(2n - 1)}. */
    static double chance(int imagesPerReplica) {
        return Math.log(2.0 * imagesPerReplica - 1);
    }

    double chance() {
        return chance;
    }

    /** Mean cosine similarity of the projections of different images under {@code live}'s current weights. */
    double projectionCosine(VisionTransformer live) {
        Map<String, Tensor<Float>> target = copy.namedParameters();
        live.namedParameters().forEach((name, tensor) -> target.get(name).copy(tensor));
        copy.module().evaluate();
        float[] z = Tensors.toArray(copy.module().forward(images).toTensor(dev.sparkvit.engine.FloatTypes.NUMERIC));
        // the copy lives for the whole run: without this its layers keep this forward's outputs (vit_tiny at 32 px:
        // about 0.7 GB for the 64 images) on the driver through every later segment, where in local mode the tasks'
        // replicas need that memory (CollapseMonitorTest)
        copy.module().clearState();
        int n = (int) images.size(1);
        int d = z.length / n;
        double[] norms = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int k = 0; k < d; k++) {
                s += (double) z[i * d + k] * z[i * d + k];
            }
            norms[i] = Math.max(Math.sqrt(s), 1e-12);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                double dot = 0;
                for (int k = 0; k < d; k++) {
                    dot += (double) z[i * d + k] * z[j * d + k];
                }
                sum += dot / (norms[i] * norms[j]);
            }
        }
        return n < 2 ? Double.NaN : sum / (n * (n - 1) / 2.0);
    }

    /**
     * The warning for epoch {@code epoch} (0-based) with mean loss {@code loss}, once per run: null when the loss
     * has left the chance value or the grace epochs are not over.
     */
    String warning(int epoch, double loss, double cosine) {
        if (warned || epoch + 1 <= graceEpochs || loss < chance - NEAR_CHANCE) {
            return null;
        }
        warned = true;
        return String.format("NT-Xent %.4f after epoch %d is within %.2f of its chance value ln(2n - 1) = %.4f and "
                + "the projections' mean cosine is %.3f: SimCLR is not learning (collapsed projections). Try "
                + "model.layer_scale: off, model.pooling: mean, projection_norm: batch, a higher temperature or "
                + "learning rate (docs/PRETRAINING.md, \"Collapse\")", loss, epoch + 1, NEAR_CHANCE, chance, cosine);
    }
}
