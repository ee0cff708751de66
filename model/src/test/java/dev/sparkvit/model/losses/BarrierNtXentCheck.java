package dev.sparkvit.model.losses;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.BarrierAllGather;
import dev.sparkvit.engine.DataParallelStep;
import dev.sparkvit.engine.BarrierStage;
import dev.sparkvit.engine.Tensors;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * One global batch through a real barrier stage: T tasks (one partition each) hold their images' projections, run
 * {@link BarrierNtXent} (two {@code allGather}s), and return the loss and their rows' gradient; the driver collects
 * them and compares with {@link NtXentLoss} on the whole batch in one JVM. Used in-process on the shared local[2]
 * session, and by {@link #main} in a child JVM for local[4] (one SparkContext per JVM).
 */
final class BarrierNtXentCheck {
    static final double RELATIVE = 1e-5;

    private BarrierNtXentCheck() {
    }

    /** What one barrier task returns. */
    record TaskResult(int task, double loss, float[] gradient) implements Serializable {
    }

    /** The check of one split; throws AssertionError when a task's loss or gradient is not one replica's. */
    static String run(JavaSparkContext sc, int[] split, int dim, long seed) {
        int images = Arrays.stream(split).sum();
        float[] global = GlobalNtXentTest.randn(new Random(seed), 2 * images * dim);
        float[] gathered = GlobalNtXentTest.gather(global, dim, split);
        GlobalBatchLayout layout = GlobalBatchLayout.of(split);
        List<float[]> slices = new ArrayList<>();
        for (int t = 0; t < split.length; t++) {
            slices.add(Arrays.copyOfRange(gathered, layout.firstRow(t) * dim,
                    (layout.firstRow(t) + layout.rowCount(t)) * dim));
        }
        double temperature = NtXentLoss.DEFAULT_TEMPERATURE;
        List<TaskResult> results = new ArrayList<>(BarrierStage.collect(sc.parallelize(slices, split.length),
                rows -> {
                    BarrierAllGather exchange = BarrierAllGather.current();
                    GlobalNtXent.Result result = BarrierNtXent.compute(new GlobalNtXent(temperature), exchange,
                            rows.next(), dim);
                    return new TaskResult(exchange.task(), result.loss(), result.gradient());
                }, TaskResult.class));
        assertEquals(split.length, results.size());
        for (int t = 0; t < split.length; t++) {
            assertEquals(t, results.get(t).task(), "results in partition order");
        }

        NtXentLoss reference = new NtXentLoss(temperature);
        Tensor<Float> input = Tensors.of(global.clone(), 2 * images, dim);
        float expectedLoss = reference.forward(input, NO_TARGET);
        float[] expected = Tensors.toArray(reference.backward(input, NO_TARGET));
        float[] actual = new float[global.length];
        int first = 0;
        String where = "split " + Arrays.toString(split);
        for (TaskResult result : results) {
            int t = result.task();
            // every task computed the same number, in the same order of summation
            assertEquals(results.get(0).loss(), result.loss(), 0.0, where + ": task " + t + "'s loss");
            assertEquals(expectedLoss, result.loss(), RELATIVE * Math.abs(expectedLoss), where + ", task " + t);
            int n = split[t];
            assertEquals(2 * n * dim, result.gradient().length, where + ", task " + t);
            System.arraycopy(result.gradient(), 0, actual, first * dim, n * dim);
            System.arraycopy(result.gradient(), n * dim, actual, (images + first) * dim, n * dim);
            first += n;
        }
        GlobalNtXentTest.assertClose(expected, actual, where);
        return where + ": " + split.length + " barrier tasks, loss " + results.get(0).loss() + " (one replica "
                + expectedLoss + "), negatives per anchor " + layout.negativesPerAnchor();
    }

    /**
     * {@link BarrierNtXent#replicaSliceLoss} on local tasks of {@code split} images: every task reports the image-
     * weighted mean of the tasks' own NT-Xent losses, and its gradient is {@code n_t / B} times {@link NtXentLoss}'s
     * gradient of its own rows alone.
     *
     * @return the tasks' loss, and the global batch's loss of the same projections (the control)
     */
    static double[] runReplica(JavaSparkContext sc, int[] split, int dim, long seed) {
        int images = Arrays.stream(split).sum();
        List<float[]> slices = new ArrayList<>();
        Random random = new Random(seed);
        for (int n : split) {
            slices.add(GlobalNtXentTest.randn(random, 2 * n * dim));
        }
        double temperature = NtXentLoss.DEFAULT_TEMPERATURE;
        List<TaskResult> results = BarrierStage.collect(sc.parallelize(slices, split.length), rows -> {
            BarrierAllGather exchange = BarrierAllGather.current();
            float[] own = rows.next();
            DataParallelStep.Outcome outcome = BarrierNtXent.replicaSliceLoss(new GlobalNtXent(temperature))
                    .apply(Tensors.of(own, own.length / dim, dim), null, exchange);
            return new TaskResult(exchange.task(), outcome.loss(), Tensors.toArray(outcome.outputGradient()));
        }, TaskResult.class);
        double expectedLoss = 0;
        NtXentLoss reference = new NtXentLoss(temperature);
        float[] gathered = new float[2 * images * dim];
        int at = 0;
        for (int t = 0; t < split.length; t++) {
            Tensor<Float> input = Tensors.of(slices.get(t).clone(), 2 * split[t], dim);
            expectedLoss += reference.forward(input, NO_TARGET) * split[t] / (double) images;
            float[] expected = Tensors.toArray(reference.backward(input, NO_TARGET));
            for (int i = 0; i < expected.length; i++) {
                expected[i] *= (float) split[t] / images;
            }
            GlobalNtXentTest.assertClose(expected, results.get(t).gradient(), "replica negatives, task " + t);
            System.arraycopy(slices.get(t), 0, gathered, at, slices.get(t).length);
            at += slices.get(t).length;
        }
        for (TaskResult result : results) {
            assertEquals(expectedLoss, result.loss(), RELATIVE * expectedLoss, "task " + result.task() + "'s loss");
        }
        return new double[] {results.get(0).loss(),
                new GlobalNtXent(temperature).compute(gathered, dim, GlobalBatchLayout.of(split), 0).loss()};
    }

    private static final Tensor<Float> NO_TARGET = Tensors.zeros(1);

    /**
     * {@code cores split...}: runs each split (comma-separated images per task, e.g. {@code 5,11,1,7}) on a
     * {@code local[cores]} session of its own and prints one line per split; exits non-zero on a failed check.
     */
    public static void main(String[] args) {
        int cores = Integer.parseInt(args[0]);
        SparkConf conf = new SparkConf().setMaster("local[" + cores + "]").setAppName("barrier-ntxent-check")
                .set("spark.ui.enabled", "false").set("spark.ui.showConsoleProgress", "false")
                .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1");
        SparkSession session = SparkSession.builder().config(conf).getOrCreate();
        try {
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(session.sparkContext());
            for (int i = 1; i < args.length; i++) {
                int[] split = Arrays.stream(args[i].split(",")).mapToInt(Integer::parseInt).toArray();
                System.out.println("OK " + run(sc, split, 32, 100 + i));
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
