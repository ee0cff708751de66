package dev.sparkvit.engine;

import dev.sparkvit.testing.TestTensors;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractCriterion;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.DataParallelStepCheck.Kind;
import dev.sparkvit.model.losses.BarrierNtXent;
import dev.sparkvit.model.losses.GlobalNtXent;
import dev.sparkvit.model.losses.NtXentLoss;
import java.io.Serializable;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * Issue 21's exactness criterion: one fixed global batch gives the same loss and the same gradient on every layout
 * as on one replica holding the whole batch. The reference is one replica's forward, loss and backward on the whole
 * batch in this JVM (no Spark, no exchange); a layout is T barrier tasks of {@link DataParallelStep} on a Spark
 * master (local[2], local[4], a standalone cluster), each with B / T of the batch, returning the global loss and the
 * exchanged gradient. Both losses: cross-entropy ({@link DataParallelStep#meanOverGlobalBatch}) on a classifier and
 * NT-Xent over the global batch ({@link BarrierNtXent} with {@link GlobalNtXent}, 2B - 2 negatives per view) on a
 * projection head without BatchNorm; the model is {@link DataParallelStepCheck}'s small ViT. "The same" is
 * {@link Difference#within}: relative 1e-5 for the loss and, in L2 over the whole flat gradient,
 * {@code |g - g_ref|_2 / |g_ref|_2}. Every task must also report the same bits (the engine's invariant).
 */
final class LayoutExactness {
    static final double RELATIVE = 1e-5;
    /** The global batch: divisible by 1, 2 and 4 tasks. */
    static final int BATCH = 8;
    static final long DATA_SEED = 2121;
    private static final int IMAGE = 3 * DataParallelStepCheck.SIZE * DataParallelStepCheck.SIZE;

    private LayoutExactness() {
    }

    /** The fixed global batch: images (one replica's layout: for NT-Xent all first views, then all second). */
    record Batch(Kind kind, float[] images, float[] labels) implements Serializable {
        int views() {
            return kind == Kind.CROSS_ENTROPY ? 1 : 2;
        }

        static Batch of(Kind kind) {
            Random random = new Random(DATA_SEED);
            int views = kind == Kind.CROSS_ENTROPY ? 1 : 2;
            float[] images = new float[views * BATCH * IMAGE];
            for (int i = 0; i < images.length; i++) {
                images[i] = (float) random.nextGaussian();
            }
            float[] labels = new float[BATCH];
            for (int i = 0; i < BATCH; i++) {
                labels[i] = 1 + random.nextInt(DataParallelStepCheck.CLASSES);
            }
            return new Batch(kind, images, labels);
        }

        /** Task t's slice of T: its images (NT-Xent: its first views, then its second views) and labels. */
        Batch slice(int t, int tasks) {
            int n = BATCH / tasks;
            int first = t * n;
            float[] mine = new float[views() * n * IMAGE];
            for (int v = 0; v < views(); v++) {
                System.arraycopy(images, (v * BATCH + first) * IMAGE, mine, v * n * IMAGE, n * IMAGE);
            }
            return new Batch(kind, mine, Arrays.copyOfRange(labels, first, first + n));
        }

        Tensor<Float> input() {
            return Tensors.of(images.clone(), images.length / IMAGE, 3, DataParallelStepCheck.SIZE,
                    DataParallelStepCheck.SIZE);
        }

        Tensor<Float> target() {
            return kind == Kind.CROSS_ENTROPY ? Tensors.of(labels.clone(), labels.length) : Tensors.zeros(1);
        }
    }

    /** A loss and the flat gradient of the whole batch (the model's {@code getParameters()} order). */
    record Measured(double loss, float[] gradient) implements Serializable {
    }

    /** What one barrier task returns. */
    record TaskResult(int task, String executor, Measured measured, int negativesPerView) implements Serializable {
    }

    /** How far a layout's numbers are from the reference: relative, loss and gradient (L2 over the whole vector). */
    record Difference(double loss, double gradient) {
        static Difference of(Measured actual, Measured reference) {
            return new Difference(Math.abs(actual.loss() - reference.loss()) / Math.abs(reference.loss()),
                    relativeL2(actual.gradient(), reference.gradient()));
        }

        boolean within(double relative) {
            return loss <= relative && gradient <= relative; // NaN is never within
        }
    }

    /** {@code |a - b|_2 / |b|_2}, in double ({@link TestTensors#relativeL2}). */
    static double relativeL2(float[] actual, float[] expected) {
        return TestTensors.relativeL2(actual, expected);
    }

    @SuppressWarnings("unchecked")
    private static AbstractCriterion<Tensor<Float>, Tensor<Float>, Float> crossEntropy() {
        return (AbstractCriterion<Tensor<Float>, Tensor<Float>, Float>) (Object) Criteria.crossEntropy();
    }

    /** One replica (the same seed's weights) on the whole batch: its loss and flat gradient. */
    static Measured reference(Kind kind) {
        Batch batch = Batch.of(kind);
        AbstractModule<Activity, Activity, Float> replica = DataParallelStepCheck.model(kind, false);
        Tensor<Float> gradients = replica.getParameters()._2();
        replica.training();
        replica.zeroGradParameters();
        AbstractCriterion<Tensor<Float>, Tensor<Float>, Float> criterion = kind == Kind.CROSS_ENTROPY
                ? crossEntropy() : new NtXentLoss(NtXentLoss.DEFAULT_TEMPERATURE);
        Tensor<Float> input = batch.input();
        Tensor<Float> target = batch.target();
        Tensor<Float> output = replica.forward(input).toTensor(FloatTypes.NUMERIC);
        double loss = criterion.forward(output, target);
        replica.backward(input, criterion.backward(output, target));
        return new Measured(loss, Tensors.toArray(gradients));
    }

    /**
     * The batch on {@code tasks} barrier tasks of {@code sc} (forward, global loss, backward, exchange: no update);
     * checks that every task holds the same bits and returns task 0's loss and gradient.
     */
    static Layout distributed(JavaSparkContext sc, Kind kind, int tasks) {
        Batch batch = Batch.of(kind);
        List<Batch> slices = new ArrayList<>();
        for (int t = 0; t < tasks; t++) {
            slices.add(batch.slice(t, tasks));
        }
        List<TaskResult> results = BarrierStage.collect(sc.parallelize(slices, tasks), partition -> {
            Batch mine = partition.next();
            DataParallelStep.SliceLoss loss = kind == Kind.CROSS_ENTROPY
                    ? DataParallelStep.meanOverGlobalBatch(crossEntropy())
                    : BarrierNtXent.sliceLoss(new GlobalNtXent(NtXentLoss.DEFAULT_TEMPERATURE));
            DataParallelStep step = DataParallelStep.current(DataParallelStepCheck.model(kind, true), loss,
                    DataParallelStepCheck.method(), "exactness");
            DataParallelStep.Result result = step.forwardBackward(mine.input(),
                    kind == Kind.CROSS_ENTROPY ? mine.target() : null);
            TaskResult out = new TaskResult(step.task(), SparkEnv.get().executorId(),
                    new Measured(result.loss(), step.gradient()), result.negativesPerView());
            step.close();
            return out;
        }, TaskResult.class);
        if (results.size() != tasks) {
            throw new AssertionError(results.size() + " results of " + tasks + " tasks");
        }
        TaskResult zero = results.get(0);
        for (TaskResult r : results) {
            if (Double.doubleToRawLongBits(r.measured().loss()) != Double.doubleToRawLongBits(zero.measured().loss())
                    || !Arrays.equals(r.measured().gradient(), zero.measured().gradient())) {
                throw new AssertionError(kind + " on " + tasks + " tasks: task " + r.task()
                        + "'s loss or gradient bits differ from task 0's");
            }
        }
        if (kind == Kind.NT_XENT && zero.negativesPerView() != 2 * BATCH - 2) {
            throw new AssertionError(kind + " on " + tasks + " tasks: " + zero.negativesPerView()
                    + " negatives per view, expected 2B - 2 = " + (2 * BATCH - 2));
        }
        return new Layout(zero.measured(), results.stream().map(TaskResult::executor).toList());
    }

    /** A layout's loss and gradient, and the executor of each task. */
    record Layout(Measured measured, List<String> executors) {
    }

    /**
     * Both losses on {@code tasks} tasks of {@code sc} against the reference: one line each,
     * {@code OK <name> <kind> T=<tasks> B=8 (executors [<each task's executor id>]): loss <l> (one replica <l>),
     * relative difference: loss <e>, gradient <e> ...}; throws
     * {@link AssertionError} (with the numbers) when a difference exceeds {@link #RELATIVE}.
     */
    static List<String> check(JavaSparkContext sc, String name, int tasks) {
        List<String> lines = new ArrayList<>();
        for (Kind kind : new Kind[] {Kind.CROSS_ENTROPY, Kind.NT_XENT}) {
            Measured reference = reference(kind);
            Layout layout = distributed(sc, kind, tasks);
            Measured actual = layout.measured();
            Difference difference = Difference.of(actual, reference);
            String line = String.format(Locale.ROOT, "%s %s T=%d B=%d (executors %s): loss %.9f (one replica %.9f), "
                    + "relative difference: loss %.2e, gradient %.2e (L2 over %d parameters)", name, kind, tasks, BATCH,
                    layout.executors(), actual.loss(), reference.loss(), difference.loss(), difference.gradient(),
                    reference.gradient().length);
            if (!difference.within(RELATIVE)) {
                throw new AssertionError("not within relative " + RELATIVE + ": " + line);
            }
            lines.add("OK " + line);
        }
        return lines;
    }

    /**
     * {@code <cores | master URL> <layout name> <tasks>}: {@link #check} on {@code local[cores]} or the master (a
     * standalone cluster: the jars in {@code -Dsparkvit.check.jars}, comma-separated); prints its lines, exits non-zero
     * on failure. A JVM holds one SparkContext, hence a child JVM per layout.
     */
    public static void main(String[] args) {
        dev.sparkvit.engine.blas.MklCpuDispatch.configure();
        SparkSession session;
        if (args[0].matches("\\d+")) {
            session = SparkSessions.local(Integer.parseInt(args[0]), "layout-exactness");
        } else {
            // the product's settings (SparkSessions.start: BigDL's conf, Engine.init), executors of 1 core, the Java 17
            // openings this JVM was started with, and this JVM's classes for the executors
            String opens = String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                    .filter(a -> a.startsWith("--add-opens")).toList());
            SparkConf conf = new SparkConf().setAppName("layout-exactness")
                    .set("spark.ui.enabled", "false").set("spark.ui.showConsoleProgress", "false")
                    .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
                    .set("spark.executor.cores", "1").set("spark.cores.max", args[2])
                    .set("spark.executor.memory", "1g").set("spark.dynamicAllocation.enabled", "false")
                    .set("spark.scheduler.maxRegisteredResourcesWaitingTime", "120s")
                    .set("spark.executor.extraJavaOptions", opens)
                    .set("spark.jars", System.getProperty("sparkvit.check.jars"));
            session = SparkSessions.start(conf, args[0]);
        }
        try {
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(session.sparkContext());
            check(sc, args[1], Integer.parseInt(args[2])).forEach(System.out::println);
        } catch (Throwable e) {
            e.printStackTrace();
            session.stop();
            System.exit(1);
        }
        session.stop();
        System.exit(0); // a non-daemon thread of Spark's or DLlib's would keep the JVM alive
    }
}
