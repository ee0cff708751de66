package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractCriterion;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.model.layers.TokenPooling;
import dev.sparkvit.model.losses.BarrierNtXent;
import dev.sparkvit.model.losses.GlobalNtXent;
import dev.sparkvit.model.losses.NtXentLoss;
import dev.sparkvit.model.optim.SgdMomentum;
import dev.sparkvit.model.vit.Head;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import scala.Tuple2;

/**
 * {@link DataParallelStep} in a real barrier stage against one replica on the whole batch: T tasks (one partition
 * each) build the same small ViT (vit_nano_patch4_32's width, 2 blocks, 16 px images, no dropout or drop-path), take
 * a slice of each of three global batches and train three iterations of SGD with momentum; the driver trains one
 * replica on the whole batches and compares. Cross-entropy (DLlib's {@code CrossEntropyCriterion}, a mean over the
 * batch) on a classifier, and NT-Xent ({@link BarrierNtXent#sliceLoss} against {@link NtXentLoss}) on a projection
 * head <em>without</em> BatchNorm (per-slice batch statistics are not the whole batch's: docs/ENGINE.md); NT-Xent with
 * the head's BatchNorm synchronised ({@code SyncBatchNorm} in the tasks against the plain {@code BatchNorm} in the
 * replica); NT-Xent with drop-path (rate 0.5 in the last block), the tasks drawing from their
 * {@link StepContext.Draws} and the replica from the whole batch's key.
 *
 * <p>Checked: every task reports the same loss and gradient norm bits every iteration, holds the same gradient bits
 * after the first exchange and the same weight bits after the last iteration; the first iteration's gradient, every
 * iteration's loss and norm, and the final weights are one replica's within relative 1e-5, in L2 norm over the whole
 * flat vector: {@code |a - b|_2 <= 1e-5 |b|_2}. Used in-process on the shared local[2] session and by {@link #main}
 * in a child JVM for local[4] (one SparkContext per JVM).
 */
final class DataParallelStepCheck {
    static final double RELATIVE = 1e-5;
    static final int SIZE = 16;
    static final int CLASSES = 5;
    static final int PROJECTION = 16;
    static final int ITERATIONS = 3;
    static final double RATE = 0.05;
    static final double MOMENTUM = 0.9;
    static final long MODEL_SEED = 7;

    private DataParallelStepCheck() {
    }

    /**
     * The losses checked, and two controls that must fail the check: {@code CROSS_ENTROPY_SLICE_MEANS} averages the
     * slices' mean-loss gradients (each task's weighted 1 / T instead of n_t / B: wrong for uneven slices), and
     * {@code NT_XENT_BATCHNORM} puts SimCLR's BatchNorm in the projection head (per-slice batch statistics);
     * {@code NT_XENT_DROP_PATH_OTHER_SEED}: the replica draws its drop-path masks from another seed than the tasks
     * (the masks matter: the check is not blind to them).
     */
    enum Kind { CROSS_ENTROPY, NT_XENT, CROSS_ENTROPY_SLICE_MEANS, NT_XENT_BATCHNORM, NT_XENT_SYNC_BATCHNORM,
        NT_XENT_DROP_PATH, NT_XENT_DROP_PATH_OTHER_SEED;

        boolean crossEntropy() {
            return this == CROSS_ENTROPY || this == CROSS_ENTROPY_SLICE_MEANS;
        }

        boolean dropPath() {
            return this == NT_XENT_DROP_PATH || this == NT_XENT_DROP_PATH_OTHER_SEED;
        }

        /** The kind's name in {@link #main}'s arguments. */
        static Kind of(String name) {
            return switch (name) {
                case "ce" -> CROSS_ENTROPY;
                case "ntxent" -> NT_XENT;
                case "syncbn" -> NT_XENT_SYNC_BATCHNORM;
                case "droppath" -> NT_XENT_DROP_PATH;
                default -> throw new IllegalArgumentException("unknown check " + name);
            };
        }
    }

    /** The run's seed of the drop-path draws. */
    static final long DRAW_SEED = 21;
    static final double DROP_PATH = 0.5;

    /** One task's slices of every iteration: images (n x 3 x S x S, for NT-Xent 2n: first views, then second). */
    record TaskData(float[][] images, float[][] labels) implements Serializable {
    }

    /** What one barrier task returns. */
    record TaskResult(int task, double[] losses, double[] norms, float[] firstGradient, float[] weights,
            long weightsHash) implements Serializable {
    }

    static VitConfig config() {
        return new VitConfig(SIZE, 4, 3, 64, 2, 4, 2.0, 0.0, false, 0.0, TokenPooling.Mode.CLASS_TOKEN);
    }

    /** The model of the barrier tasks. */
    static AbstractModule<Activity, Activity, Float> model(Kind kind) {
        return model(kind, true);
    }

    /** The model of the tasks, or ({@code inTasks} false) of the one replica: its BatchNorm is the plain one. */
    @SuppressWarnings("unchecked")
    static AbstractModule<Activity, Activity, Float> model(Kind kind, boolean inTasks) {
        boolean batchNorm = kind == Kind.NT_XENT_BATCHNORM || kind == Kind.NT_XENT_SYNC_BATCHNORM;
        VitConfig config = kind.dropPath() ? config().withDropPathRate(DROP_PATH) : config();
        VisionTransformer vit = kind.crossEntropy()
                ? VisionTransformer.classifier(config, CLASSES, MODEL_SEED)
                : VisionTransformer.of(config, Head.projection(PROJECTION, batchNorm,
                        inTasks && kind == Kind.NT_XENT_SYNC_BATCHNORM), MODEL_SEED);
        return (AbstractModule<Activity, Activity, Float>) (AbstractModule<?, ?, Float>) vit.module();
    }

    static SgdMomentum method() {
        return new SgdMomentum(iteration -> RATE, MOMENTUM, false);
    }

    /** The check of one split (images per task); throws AssertionError on any difference. */
    static String run(JavaSparkContext sc, Kind kind, int[] split, long seed) {
        int tasks = split.length;
        int batch = Arrays.stream(split).sum();
        int image = 3 * SIZE * SIZE;
        int views = kind.crossEntropy() ? 1 : 2;
        Random random = new Random(seed);
        // whole[k]: iteration k's global batch as one replica sees it (NT-Xent: all first views, then all second)
        float[][] whole = new float[ITERATIONS][];
        float[][] wholeLabels = new float[ITERATIONS][];
        List<TaskData> data = new ArrayList<>();
        float[][][] images = new float[tasks][ITERATIONS][];
        float[][][] labels = new float[tasks][ITERATIONS][];
        for (int k = 0; k < ITERATIONS; k++) {
            whole[k] = new float[views * batch * image];
            for (int i = 0; i < whole[k].length; i++) {
                whole[k][i] = (float) random.nextGaussian();
            }
            wholeLabels[k] = new float[batch];
            for (int i = 0; i < batch; i++) {
                wholeLabels[k][i] = 1 + random.nextInt(CLASSES);
            }
            int first = 0;
            for (int t = 0; t < tasks; t++) {
                int n = split[t];
                images[t][k] = new float[views * n * image];
                for (int v = 0; v < views; v++) {
                    System.arraycopy(whole[k], (v * batch + first) * image, images[t][k], v * n * image, n * image);
                }
                labels[t][k] = Arrays.copyOfRange(wholeLabels[k], first, first + n);
                first += n;
            }
        }
        for (int t = 0; t < tasks; t++) {
            data.add(new TaskData(images[t], labels[t]));
        }

        long started = System.nanoTime();
        List<TaskResult> results = BarrierStage.collect(sc.parallelize(data, tasks), partition -> {
            TaskData mine = partition.next();
            DataParallelStep.SliceLoss loss = kind == Kind.CROSS_ENTROPY
                    ? DataParallelStep.meanOverGlobalBatch(crossEntropy())
                    : kind == Kind.CROSS_ENTROPY_SLICE_MEANS ? sliceMeans(crossEntropy(), tasks)
                    : BarrierNtXent.sliceLoss(new GlobalNtXent(NtXentLoss.DEFAULT_TEMPERATURE));
            DataParallelStep step = DataParallelStep.current(model(kind), loss, method(), "check");
            double[] losses = new double[ITERATIONS];
            double[] norms = new double[ITERATIONS];
            float[] firstGradient = null;
            int offset = Arrays.stream(split, 0, step.task()).sum();
            for (int k = 0; k < ITERATIONS; k++) {
                int rows = mine.images()[k].length / image;
                Tensor<Float> input = Tensors.of(mine.images()[k], rows, 3, SIZE, SIZE);
                Tensor<Float> target = kind.crossEntropy() ? Tensors.of(mine.labels()[k], rows) : null;
                StepContext.Draws draws = new StepContext.Draws(DRAW_SEED, k, offset, split[step.task()], batch);
                DataParallelStep.Result result = step.forwardBackward(input, target, draws);
                step.update(result.loss());
                losses[k] = result.loss();
                norms[k] = result.gradientNorm();
                if (k == 0) {
                    firstGradient = step.gradient();
                }
            }
            step.verifyIdenticalWeights();
            TaskResult out = new TaskResult(step.task(), losses, norms, firstGradient, step.weights(),
                    step.weightsHash());
            step.close();
            return out;
        }, TaskResult.class);
        double stageSeconds = (System.nanoTime() - started) / 1e9;

        // one replica on the whole batches
        AbstractModule<Activity, Activity, Float> replica = model(kind, false);
        Tuple2<Tensor<Float>, Tensor<Float>> flat = replica.getParameters();
        float[] initial = Tensors.toArray(flat._1());
        replica.training();
        SgdMomentum method = method();
        AbstractCriterion<Tensor<Float>, Tensor<Float>, Float> criterion = kind.crossEntropy()
                ? crossEntropy() : new NtXentLoss(NtXentLoss.DEFAULT_TEMPERATURE);
        double[] losses = new double[ITERATIONS];
        float[] firstGradient = null;
        for (int k = 0; k < ITERATIONS; k++) {
            replica.zeroGradParameters();
            Tensor<Float> input = Tensors.of(whole[k].clone(), views * batch, 3, SIZE, SIZE);
            Tensor<Float> target = kind.crossEntropy() ? Tensors.of(wholeLabels[k].clone(), batch)
                    : Tensors.zeros(1);
            // the whole batch's draws (no all-gather: one replica)
            StepContext context = new StepContext(null, StepContext.Draws.wholeBatch(
                    kind == Kind.NT_XENT_DROP_PATH_OTHER_SEED ? DRAW_SEED + 1 : DRAW_SEED, k, batch));
            Tensor<Float> output = context.run(() -> replica.forward(input).toTensor(FloatTypes.NUMERIC));
            float value = criterion.forward(output, target);
            losses[k] = value;
            context.run(() -> replica.backward(input, criterion.backward(output, target)));
            if (k == 0) {
                firstGradient = Tensors.toArray(flat._2());
            }
            Tensor<Float> gradients = flat._2();
            method.optimize(w -> new Tuple2<>(value, gradients), flat._1());
        }
        float[] weights = Tensors.toArray(flat._1());

        String where = kind + " split " + Arrays.toString(split);
        assertEquals(tasks, results.size(), where);
        TaskResult zero = results.get(0);
        for (int t = 0; t < tasks; t++) {
            TaskResult r = results.get(t);
            assertEquals(t, r.task(), where + ": results in partition order");
            // the invariant: the same bits on every task
            assertArrayEquals(zero.losses(), r.losses(), 0.0, where + ": task " + t + "'s losses");
            assertArrayEquals(zero.norms(), r.norms(), 0.0, where + ": task " + t + "'s norms");
            assertTrue(Arrays.equals(zero.firstGradient(), r.firstGradient()), where + ": task " + t + "'s gradient");
            assertTrue(Arrays.equals(zero.weights(), r.weights()), where + ": task " + t + "'s weights");
            assertEquals(zero.weightsHash(), r.weightsHash(), where + ": task " + t + "'s weights hash");
        }
        double gradientError = relative(zero.firstGradient(), firstGradient);
        double weightError = relative(zero.weights(), weights);
        double update = distance(weights, initial);
        double weightErrorOfUpdate = distance(zero.weights(), weights) / update;
        double lossError = 0;
        double normError = Math.abs(zero.norms()[0] - norm(firstGradient)) / norm(firstGradient);
        for (int k = 0; k < ITERATIONS; k++) {
            lossError = Math.max(lossError, Math.abs(zero.losses()[k] - losses[k]) / Math.abs(losses[k]));
        }
        assertTrue(update > 0, where + ": the weights did not move");
        assertTrue(gradientError <= RELATIVE, where + ": first gradient off by relative " + gradientError);
        assertTrue(weightError <= RELATIVE, where + ": weights after " + ITERATIONS + " off by relative "
                + weightError);
        assertTrue(lossError <= RELATIVE, where + ": losses " + Arrays.toString(zero.losses()) + ", one replica "
                + Arrays.toString(losses));
        assertTrue(normError <= RELATIVE, where + ": gradient norm " + zero.norms()[0] + ", one replica "
                + norm(firstGradient));
        return String.format(Locale.ROOT, "%s: %d barrier tasks, %d parameters, losses %s (one replica %s), relative "
                + "L2 error: first gradient %.2e, loss %.2e, norm %.2e, weights after %d iterations %.2e (%.2e of "
                + "the update), tasks bit-identical; stage %.1f s", where, tasks, initial.length,
                Arrays.toString(zero.losses()), Arrays.toString(losses), gradientError, lossError, normError,
                ITERATIONS, weightError, weightErrorOfUpdate, stageSeconds);
    }

    /** The control: the average of the slices' mean losses and gradients (what a per-slice loop would do). */
    private static DataParallelStep.SliceLoss sliceMeans(AbstractCriterion<Tensor<Float>, Tensor<Float>, Float> c,
            int tasks) {
        return (output, target, exchange) -> {
            double mean = c.forward(output, target);
            double[][] all = exchange.doubles(new double[] {mean});
            double sum = 0;
            for (double[] part : all) {
                sum += part[0];
            }
            Tensor<Float> gradient = c.backward(output, target);
            gradient.mul((float) (1.0 / tasks)); // the step multiplies by T, then averages over T
            return new DataParallelStep.Outcome(sum / tasks, gradient);
        };
    }

    @SuppressWarnings("unchecked")
    private static AbstractCriterion<Tensor<Float>, Tensor<Float>, Float> crossEntropy() {
        return (AbstractCriterion<Tensor<Float>, Tensor<Float>, Float>) (Object) Criteria.crossEntropy();
    }

    private static double relative(float[] actual, float[] expected) {
        return distance(actual, expected) / norm(expected);
    }

    private static double distance(float[] a, float[] b) {
        assertEquals(b.length, a.length);
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            sum += d * d;
        }
        return Math.sqrt(sum);
    }

    private static double norm(float[] a) {
        double sum = 0;
        for (float v : a) {
            sum += (double) v * v;
        }
        return Math.sqrt(sum);
    }

    /**
     * {@code cores kind:split...}: runs each check (kind {@code ce}, {@code ntxent}, {@code syncbn} or
     * {@code droppath}, split as images per task, e.g.
     * {@code ce:1,2,3,4}) on a {@code local[cores]} session of its own; one line per check, non-zero exit on failure.
     */
    public static void main(String[] args) {
        dev.sparkvit.engine.blas.MklCpuDispatch.configure();
        SparkSession session = SparkSessions.local(Integer.parseInt(args[0]), "data-parallel-step-check");
        try {
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(session.sparkContext());
            for (int i = 1; i < args.length; i++) {
                String[] spec = args[i].split(":");
                Kind kind = Kind.of(spec[0]);
                int[] split = Arrays.stream(spec[1].split(",")).mapToInt(Integer::parseInt).toArray();
                System.out.println("OK " + run(sc, kind, split, 300 + i));
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
