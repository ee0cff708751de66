package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.feature.dataset.MiniBatch;
import com.intel.analytics.bigdl.dllib.feature.dataset.Sample;
import com.intel.analytics.bigdl.dllib.feature.dataset.SampleToMiniBatch;
import com.intel.analytics.bigdl.dllib.feature.dataset.SampleToMiniBatch$;
import com.intel.analytics.bigdl.dllib.nn.Sequential;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractCriterion;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.model.losses.BarrierNtXent;
import dev.sparkvit.model.losses.GlobalNtXent;
import dev.sparkvit.model.losses.NtXentLoss;
import dev.sparkvit.model.optim.SgdMomentum;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.IntStream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import scala.Option;
import scala.Tuple2;
import scala.collection.JavaConverters;

/**
 * {@link BarrierSegment} against one replica trained on the driver on the same global batches: the small ViT of
 * {@link DataParallelStepCheck} (vit_nano's width, 2 blocks, 16 px), samples built by an {@link EpochDataSet} from
 * image ids (each id's image and label drawn from its own seed), SGD with momentum, and optionally clipping to a
 * global norm. The driver reads each partition's order of the epoch ({@code data(false)}), takes partition t's next
 * B / T samples per iteration as the segment does, stacks the tasks' slices in task order through DLlib's
 * SampleToMiniBatch and trains one replica on them. Used in-process on local[2] and by {@link #main} in a child JVM.
 */
final class BarrierSegmentCheck {
    static final double RELATIVE = 1e-5;
    static final double LOSS_RELATIVE = 1e-6;
    static final int SIZE = DataParallelStepCheck.SIZE;
    static final int CLASSES = DataParallelStepCheck.CLASSES;
    static final long DATA_SEED = 17;

    enum Kind { CROSS_ENTROPY, NT_XENT }

    private BarrierSegmentCheck() {
    }

    /** The model of {@code kind}: a classifier, or SimCLR's shape (both views joined, a head without BatchNorm). */
    static AbstractModule<Activity, Activity, Float> model(Kind kind) {
        if (kind == Kind.CROSS_ENTROPY) {
            return DataParallelStepCheck.model(DataParallelStepCheck.Kind.CROSS_ENTROPY);
        }
        Sequential<Float> twoViews = Layers.sequential("simclr");
        twoViews.add(Layers.joinBatch());
        twoViews.add(DataParallelStepCheck.model(DataParallelStepCheck.Kind.NT_XENT));
        @SuppressWarnings("unchecked")
        AbstractModule<Activity, Activity, Float> module =
                (AbstractModule<Activity, Activity, Float>) (AbstractModule<?, ?, Float>) twoViews;
        return module;
    }

    static SgdMomentum method() {
        return DataParallelStepCheck.method();
    }

    static BarrierSegment.Loss loss(Kind kind) {
        return kind == Kind.CROSS_ENTROPY
                ? () -> DataParallelStep.meanOverGlobalBatch(crossEntropy())
                : () -> BarrierNtXent.sliceLoss(new GlobalNtXent(NtXentLoss.DEFAULT_TEMPERATURE));
    }

    /** The sample of image {@code id}: a Gaussian image (two for NT-Xent) and a 1-based label. */
    static Sample<Float> sample(Kind kind, int id, boolean poisoned) {
        Random random = new Random(1000 + id);
        int views = kind == Kind.CROSS_ENTROPY ? 1 : 2;
        List<Tensor<Float>> features = new ArrayList<>();
        for (int v = 0; v < views; v++) {
            float[] image = new float[3 * SIZE * SIZE];
            for (int i = 0; i < image.length; i++) {
                image[i] = (float) random.nextGaussian();
            }
            if (poisoned) {
                image[5] = Float.NaN;
            }
            features.add(Tensors.of(image, 3, SIZE, SIZE));
        }
        Tensor<Float> label = Tensors.scalar(1 + random.nextInt(CLASSES));
        return views == 1 ? Samples.of(features.get(0), label) : Samples.of(features, label);
    }

    /**
     * {@code images} samples in {@code partitions} partitions (element i in partition i mod T, so uneven when T does
     * not divide it); the sample at {@code poisonPosition} of partition {@code poisonPartition}'s stream has a NaN
     * pixel (-1: none).
     */
    static EpochDataSet<Integer> data(JavaSparkContext sc, Kind kind, int images, int partitions,
            int poisonPartition, long poisonPosition) {
        List<Integer> ids = IntStream.range(0, images).boxed().toList();
        return EpochDataSet.sequenced(sc.parallelize(ids, partitions), partitions,
                (epoch, partition, position, at) -> sample(kind, at.apply(position),
                        partition == poisonPartition && position == poisonPosition), DATA_SEED);
    }

    /** One replica on the driver over the same global batches: its losses, norms and final weights. */
    record Reference(double[] losses, double[] norms, float[] weights, float[] initial) {
    }

    static Reference reference(Kind kind, EpochDataSet<Integer> data, int batch, int iterations, double clip) {
        List<List<Sample<Float>>> partitions = data.data(false).toJavaRDD().glom().collect();
        int tasks = partitions.size();
        int slice = batch / tasks;
        AbstractModule<Activity, Activity, Float> replica = model(kind);
        Tuple2<Tensor<Float>, Tensor<Float>> flat = replica.getParameters();
        float[] initial = Tensors.toArray(flat._1());
        replica.training();
        SgdMomentum method = method();
        AbstractCriterion<Tensor<Float>, Tensor<Float>, Float> criterion = kind == Kind.CROSS_ENTROPY
                ? crossEntropy() : new NtXentLoss(NtXentLoss.DEFAULT_TEMPERATURE);
        SampleToMiniBatch<Float> toBatch = SampleToMiniBatch$.MODULE$.apply(batch, Option.empty(), Option.empty(),
                Option.apply((Object) 1), true, FloatTypes.TAG, FloatTypes.NUMERIC);
        double[] losses = new double[iterations];
        double[] norms = new double[iterations];
        for (int k = 0; k < iterations; k++) {
            List<Sample<Float>> whole = new ArrayList<>();
            for (List<Sample<Float>> partition : partitions) {
                for (int j = 0; j < slice; j++) {
                    whole.add(partition.get((k * slice + j) % partition.size()));
                }
            }
            MiniBatch<Float> miniBatch = toBatch.apply(JavaConverters.asScalaIterator(whole.iterator())).next();
            replica.zeroGradParameters();
            Activity input = miniBatch.getInput();
            Tensor<Float> target = kind == Kind.CROSS_ENTROPY ? miniBatch.getTarget().toTensor(FloatTypes.NUMERIC)
                    : Tensors.zeros(1);
            Tensor<Float> output = replica.forward(input).toTensor(FloatTypes.NUMERIC);
            float value = criterion.forward(output, target);
            replica.backward(input, criterion.backward(output, target));
            Tensor<Float> gradients = flat._2();
            double norm = norm(Tensors.toArray(gradients));
            if (clip > 0 && norm > clip) {
                gradients.div((float) (norm / clip));
            }
            losses[k] = value;
            norms[k] = norm;
            method.optimize(w -> new Tuple2<>(value, gradients), flat._1());
        }
        return new Reference(losses, norms, Tensors.toArray(flat._1()), initial);
    }

    /**
     * One segment of {@code iterations} from the start against {@link #reference}; throws AssertionError on a
     * difference beyond relative 1e-5 (weights, norms) or 1e-6 (losses).
     */
    static String exactness(JavaSparkContext sc, Kind kind, int images, int batch, int iterations, double clip) {
        int tasks = sc.defaultParallelism();
        EpochDataSet<Integer> data = data(sc, kind, images, tasks, -1, -1);
        Reference reference = reference(kind, data, batch, iterations, clip);
        AbstractModule<Activity, Activity, Float> model = model(kind);
        SgdMomentum method = method();
        BarrierSegment.Result result;
        try (BarrierSegment segment = new BarrierSegment(model, data, batch, loss(kind), method)
                .clipGradientNorm(clip)) {
            result = segment.run(BarrierSegment.Start.of(model, method, 0), iterations);
        }
        String where = kind + " on " + tasks + " tasks, " + images + " images, batch " + batch;
        assertEquals(tasks, result.tasks(), where);
        assertEquals(iterations, result.losses().length, where);
        assertEquals(iterations, result.optimizer().get(BarrierSegment.WHOLE).step(), where + ": optimiser steps");
        double weightError = relative(result.weights(), reference.weights());
        double update = distance(reference.weights(), reference.initial());
        double lossError = 0;
        double normError = 0;
        int clipped = 0;
        for (int k = 0; k < iterations; k++) {
            lossError = Math.max(lossError, Math.abs(result.losses()[k] - reference.losses()[k])
                    / Math.abs(reference.losses()[k]));
            normError = Math.max(normError, Math.abs(result.norms()[k] - reference.norms()[k])
                    / reference.norms()[k]);
            clipped += clip > 0 && reference.norms()[k] > clip ? 1 : 0;
        }
        assertTrue(update > 0, where + ": the weights did not move");
        assertTrue(weightError <= RELATIVE, where + ": weights after " + iterations + " iterations off by relative "
                + weightError);
        assertTrue(lossError <= LOSS_RELATIVE, where + ": losses " + Arrays.toString(result.losses())
                + ", one replica " + Arrays.toString(reference.losses()));
        assertTrue(normError <= RELATIVE, where + ": norms " + Arrays.toString(result.norms()) + ", one replica "
                + Arrays.toString(reference.norms()));
        if (kind == Kind.NT_XENT) {
            assertEquals(2 * batch - 2, result.negativesPerView(), where + ": negatives per view");
        }
        return String.format(Locale.ROOT, "%s: %d barrier tasks, %d iterations in one stage (%.1f s, median %.0f ms "
                + "an iteration), %d clipped at %.3g (norms %s), %s; relative error: weights %.2e (%.2e of the "
                + "update), losses %.2e, norms %.2e", where, result.tasks(), iterations, result.timing()
                .stageSeconds(), result.timing().medianIterationMillis(), clipped, clip,
                Arrays.toString(Arrays.stream(reference.norms()).map(n -> Math.round(n * 1000) / 1000.0).toArray()),
                result.negativesPerView() >= 0 ? result.negativesPerView() + " negatives per view" : "no negatives",
                weightError, distance(result.weights(), reference.weights()) / update, lossError, normError);
    }

    @SuppressWarnings("unchecked")
    static AbstractCriterion<Tensor<Float>, Tensor<Float>, Float> crossEntropy() {
        return (AbstractCriterion<Tensor<Float>, Tensor<Float>, Float>) (Object) Criteria.crossEntropy();
    }

    static double relative(float[] actual, float[] expected) {
        return distance(actual, expected) / norm(expected);
    }

    static double distance(float[] a, float[] b) {
        assertEquals(b.length, a.length);
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            sum += d * d;
        }
        return Math.sqrt(sum);
    }

    static double norm(float[] a) {
        double sum = 0;
        for (float v : a) {
            sum += (double) v * v;
        }
        return Math.sqrt(sum);
    }

    /**
     * {@code cores spec...}, each spec {@code kind:images:batch:iterations:clip} ({@code ce} or {@code ntxent}):
     * {@link #exactness} on a {@code local[cores]} session of its own, one line {@code OK ...} per spec; non-zero
     * exit on failure.
     */
    public static void main(String[] args) {
        dev.sparkvit.engine.blas.MklCpuDispatch.configure();
        SparkSession session = SparkSessions.local(Integer.parseInt(args[0]), "barrier-segment-check");
        try {
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(session.sparkContext());
            for (int i = 1; i < args.length; i++) {
                String[] spec = args[i].split(":");
                Kind kind = spec[0].equals("ce") ? Kind.CROSS_ENTROPY : Kind.NT_XENT;
                System.out.println("OK " + exactness(sc, kind, Integer.parseInt(spec[1]), Integer.parseInt(spec[2]),
                        Integer.parseInt(spec[3]), Double.parseDouble(spec[4])));
            }
        } catch (Throwable e) {
            e.printStackTrace();
            session.stop();
            System.exit(1);
        }
        session.stop();
        System.exit(0); // a non-daemon thread of Spark's or DLlib's would keep the JVM alive
    }
}
