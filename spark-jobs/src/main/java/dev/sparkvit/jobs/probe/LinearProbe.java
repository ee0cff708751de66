package dev.sparkvit.jobs.probe;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.image.FloatImage;
import dev.sparkvit.data.ingest.DatasetSnapshot;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.model.vit.Encoder;
import dev.sparkvit.model.vit.VisionTransformer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The linear probe of the training guide ({@code probe_accuracy}): frozen encoder features of the train and val
 * splits, computed on the executors, and a multinomial logistic regression (Spark MLlib) fitted on train and scored on
 * val ({@link CentredLogisticRegression}: features centred and scaled by the train split's statistics, the solver run
 * to convergence). Two feature kinds are probed: the encoder's pooled output and the mean of the patch tokens; with class-token
 * pooling and a small LayerScale init a random encoder's class token barely depends on the input, so the mean-pooled
 * features give the meaningful random baseline.
 */
public final class LinearProbe {
    private static final int BATCH = 64;
    private static final StructType FEATURES = new StructType()
            .add("split", DataTypes.StringType, false)
            .add("label", DataTypes.DoubleType, false)
            .add("pooled", new VectorUDT(), false)
            .add("mean", new VectorUDT(), false)
            .add("id", DataTypes.StringType, false);

    private LinearProbe() {
    }

    /**
     * Val accuracy of the probe on each feature kind, and how its solver ended.
     *
     * @param pooledSolver how the fit on the pooled features ended
     * @param meanSolver how the fit on the mean patch tokens ended
     */
    public record Result(double pooledAccuracy, double meanAccuracy, long trainImages, long valImages,
            CentredLogisticRegression.Solver pooledSolver, CentredLogisticRegression.Solver meanSolver) {
        /** Whether both solvers met their tolerance. */
        public boolean converged() {
            return pooledSolver.converged() && meanSolver.converged();
        }

        @Override
        public String toString() {
            return String.format("probe accuracy: pooled %.3f (%s), mean of patch tokens %.3f (%s) (%d train, %d val "
                    + "images)", pooledAccuracy, pooledSolver, meanAccuracy, meanSolver,
                    trainImages, valImages);
        }
    }

    /** The probe's L2 strength on standardised features ({@code C = 1 / (reg * n)} in scikit-learn's terms). */
    public static final double PROBE_REG = 1e-4;

    /** The probe on the dataset's current snapshot. */
    public static Result run(SparkSession spark, VisionTransformer vit, String dataset, Normalize normalize) {
        return run(spark, vit, StoredImages.snapshot(spark, dataset, null), normalize);
    }

    /** The probe on {@code snapshot}'s train (fit) and val (scored) images. */
    public static Result run(SparkSession spark, VisionTransformer vit, DatasetSnapshot snapshot,
            Normalize normalize) {
        String dataset = snapshot.dataset();
        Features features = features(spark, vit, StoredImages.read(spark, snapshot, null)
                .filter("split in ('train', 'val')"), normalize);
        Dataset<Row> train = features.rows().filter("split = 'train'");
        Dataset<Row> val = features.rows().filter("split = 'val'");
        long trainCount = train.count();
        long valCount = val.count();
        if (trainCount == 0 || valCount == 0) {
            throw new IllegalArgumentException("dataset " + dataset + " needs train and val images for a probe, has "
                    + trainCount + " and " + valCount);
        }
        // the two fits side by side (Concurrently): each is a few hundred small Spark jobs, mostly scheduling
        List<CentredLogisticRegression.Fit> fits = Concurrently.all(List.of(
                () -> CentredLogisticRegression.fit(train, "pooled", PROBE_REG),
                () -> CentredLogisticRegression.fit(train, "mean", PROBE_REG)));
        CentredLogisticRegression.Fit pooled = fits.get(0);
        CentredLogisticRegression.Fit mean = fits.get(1);
        Result result = new Result(pooled.accuracy(val), mean.accuracy(val), trainCount, valCount, pooled.solver(),
                mean.solver());
        features.release();
        return result;
    }

    /**
     * A linear classifier on the frozen encoder's pooled features, as the weight (classes x dim, row-major) and bias
     * of the model's head: the first stage of LP-FT (Kumar et al. 2022), which fine-tunes from a fitted head so that
     * a random head's large early gradients do not distort the pretrained features. The L2 strength is chosen from
     * {@link #HEAD_REGS} by the cross-entropy on {@code val}: the probe's own 1e-4 fits logits of several tens, and
     * such an over-confident head gave losses of 4 to 12 against mixup targets and wrecked the encoder in the first
     * epochs (docs/FINETUNING.md).
     *
     * @param train the labelled images to fit on (rows of the image table)
     * @param val the images that choose the L2 strength
     * @param classes the dataset's class count (a class absent from {@code train} keeps zero weights)
     */
    public static HeadFit fitHead(SparkSession spark, VisionTransformer vit, Dataset<Row> train, Dataset<Row> val,
            Normalize normalize, int classes) {
        Features features = features(spark, vit, train.unionByName(val), normalize);
        Dataset<Row> trainFeatures = features.rows().filter("split = 'train'");
        Dataset<Row> valFeatures = features.rows().filter("split = 'val'");
        List<java.util.function.Supplier<CentredLogisticRegression.Fit>> candidates = new java.util.ArrayList<>();
        for (double reg : HEAD_REGS) {
            candidates.add(() -> CentredLogisticRegression.fit(trainFeatures, "pooled", reg));
        }
        CentredLogisticRegression.Fit best = null;
        double bestLoss = Double.POSITIVE_INFINITY;
        for (CentredLogisticRegression.Fit fit : Concurrently.all(candidates)) { // in HEAD_REGS order
            double loss = logLoss(fit, valFeatures);
            if (loss < bestLoss) {
                best = fit;
                bestLoss = loss;
            }
        }
        float[][] raw = best.rawWeightAndBias(classes);
        HeadFit fit = new HeadFit(raw[0], raw[1], best.reg(), best.accuracy(trainFeatures),
                best.accuracy(valFeatures), bestLoss, best.solver());
        features.release();
        return fit;
    }

    /** The L2 strengths {@link #fitHead} chooses from. */
    static final double[] HEAD_REGS = {1e-4, 1e-3, 1e-2, 1e-1};

    /** Mean cross-entropy of the fit's probabilities on labelled feature rows, summed on the executors. */
    private static double logLoss(CentredLogisticRegression.Fit fit, Dataset<Row> rows) {
        double[] sums = fit.predict(rows).select("label", "probability").javaRDD().map(r -> {
            org.apache.spark.ml.linalg.Vector p = r.getAs(1);
            int label = (int) r.getDouble(0);
            return new double[] {-Math.log(Math.max(label < p.size() ? p.apply(label) : 0, 1e-12)), 1};
        }).fold(new double[] {0, 0}, (a, b) -> new double[] {a[0] + b[0], a[1] + b[1]});
        return sums[0] / Math.max(1, sums[1]);
    }

    /** A fitted linear head on the raw features: its L2 strength, train and val accuracy, and val cross-entropy. */
    public record HeadFit(float[] weight, float[] bias, double regParam, double trainAccuracy, double valAccuracy,
            double valLoss, CentredLogisticRegression.Solver solver) {
    }

    /** Cached feature rows and the encoder broadcast they are computed with (released together). */
    private record Features(Dataset<Row> rows, Broadcast<Encoder> encoder) {
        void release() {
            rows.unpersist();
            encoder.destroy();
        }
    }

    /** Pooled and mean-token features of image-table rows, one partition in id order, cached. */
    private static Features features(SparkSession spark, VisionTransformer vit, Dataset<Row> imageRows,
            Normalize normalize) {
        Broadcast<Encoder> encoder = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .broadcast(vit.encoder());
        Dataset<Row> images = imageRows.select("split", "label_index", "height", "width", "pixels", "id");
        int size = vit.config().imgSize(); // stored images of another size are resized to the encoder's
        Dataset<Row> features = spark.createDataFrame(images.javaRDD().mapPartitions(
                (FlatMapFunction<Iterator<Row>, Row>) rows -> extract(rows, ownCopy(encoder.value()), normalize,
                        size)),
                FEATURES)
                // one partition in id order: MLlib sums the partitions' gradients in the order their tasks finish,
                // and for nearly constant features (a random encoder's class token) that rounding flipped single
                // val predictions between runs
                .repartition(1).sortWithinPartitions("id").cache();
        return new Features(features, encoder);
    }

    /** A task's own copy: tasks of one executor share the broadcast value, and modules keep per-call buffers. */
    private static Encoder ownCopy(Encoder encoder) {
        return (Encoder) (Object) encoder.cloneModule();
    }

    private static Iterator<Row> extract(Iterator<Row> rows, Encoder encoder, Normalize normalize, int size) {
        List<Row> out = new ArrayList<>();
        List<Row> batch = new ArrayList<>();
        while (rows.hasNext()) {
            batch.add(rows.next());
            if (batch.size() == BATCH || !rows.hasNext()) {
                out.addAll(features(batch, encoder, normalize, size));
                batch.clear();
            }
        }
        return out.iterator();
    }

    private static List<Row> features(List<Row> batch, Encoder encoder, Normalize normalize, int size) {
        int h = size;
        int w = size;
        float[] pixels = new float[batch.size() * 3 * h * w];
        for (int i = 0; i < batch.size(); i++) {
            FloatImage image = normalize.apply(StoredImages.image(batch.get(i), size), new SplittableRandom(0));
            System.arraycopy(image.data(), 0, pixels, i * 3 * h * w, 3 * h * w);
        }
        Tensor<Float>[] f = VisionTransformer.features(encoder, Tensors.of(pixels, batch.size(), 3, h, w));
        float[] pooled = Tensors.toArray(f[0]);
        float[] mean = Tensors.toArray(f[1]);
        int dim = pooled.length / batch.size();
        List<Row> out = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            out.add(RowFactory.create(batch.get(i).getString(0), (double) batch.get(i).getInt(1),
                    Vectors.dense(toDoubles(pooled, i * dim, dim)), Vectors.dense(toDoubles(mean, i * dim, dim)),
                    batch.get(i).getString(5)));
        }
        return out;
    }

    private static double[] toDoubles(float[] values, int from, int length) {
        double[] out = new double[length];
        for (int i = 0; i < length; i++) {
            out[i] = values[from + i];
        }
        return out;
    }
}
