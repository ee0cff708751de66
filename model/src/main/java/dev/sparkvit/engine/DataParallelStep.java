package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractCriterion;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import java.io.Serializable;
import java.util.Arrays;
import org.apache.spark.BarrierTaskContext;
import scala.Tuple2;

/**
 * One exact synchronous data-parallel training step per call, inside a barrier task (issue 21, third block; not used
 * by the jobs yet). Every task of the stage holds a replica of the same model with bit-identical weights and its own
 * optimiser state, and holds a slice of each global batch. {@link #iterate} runs, on every task:
 * <ol>
 *   <li>forward of the replica on the task's slice;</li>
 *   <li>the {@link SliceLoss}: the loss of the <em>whole</em> global batch and the gradient of that loss with
 *       respect to this task's outputs (for a mean over the batch, {@link #meanOverGlobalBatch}: the slice's mean
 *       loss gradient scaled by n_t / B; for NT-Xent, {@code model.losses.BarrierNtXent#sliceLoss}: the exact
 *       gradient of the global-batch loss for the task's rows);</li>
 *   <li>backward of the replica: its flat parameter gradient g_t is then the part of the whole batch's gradient that
 *       the task's samples contribute, and the whole batch's gradient is {@code g_0 + ... + g_{T-1}};</li>
 *   <li>g_t is multiplied by T and {@link BarrierAllReduce#averageInPlace} replaces it by the average over the tasks,
 *       that is the sum: every task now holds the gradient one replica would compute on the whole batch, bit-identical
 *       on every task, and its global L2 norm;</li>
 *   <li>the optimiser updates the weights with that gradient: one method over the whole buffer, or one per
 *       parameter group on its slice ({@link ParameterGroups}).</li>
 * </ol>
 *
 * <p><b>Invariant</b>: the weights of every task are bit-identical after every call, without any weight exchange,
 * because they start bit-identical (checked by {@link #verifyIdenticalWeights()} when the step is created), every
 * task applies the same deterministic method to the same bits of gradient, and every method's state starts the same
 * (a fresh or equally restored method per task). The method must not depend on anything task-specific (no random
 * numbers, no thread-count-dependent reductions). Forward and backward run in a {@link StepContext}: drop-path
 * draws from the key it is given ({@link #forwardBackward(Activity, Tensor, StepContext.Draws)}: seed, iteration and
 * the rows' places in the global batch), so its masks are one replica's on the whole batch.
 *
 * <p><b>Exact, and not</b>: the gradient equals one replica's on the whole batch up to float summation order
 * (measured within relative 1.1e-6 in L2 norm, {@code DataParallelStepTest}), when the loss is a sum or mean over
 * samples, or NT-Xent through {@code BarrierNtXent}. Layers that mix samples inside the model must synchronise:
 * {@code model.layers.SyncBatchNorm} gathers the global batch's statistics through the context; a plain
 * {@code BatchNorm} normalises each slice with its own statistics, which differ from the whole batch's.
 *
 * <p>Not thread-safe; every task of the stage must call {@link #iterate} the same number of times, then
 * {@link #close()}. Slices may differ in size between tasks; an empty slice is not supported yet.
 */
public final class DataParallelStep implements AutoCloseable {

    /** The global batch's loss from one task's outputs; every task of the stage calls it once per iteration. */
    @FunctionalInterface
    public interface SliceLoss {
        /**
         * @param output this task's model outputs on its slice (rows are the slice's samples)
         * @param target this task's targets, or null when the loss needs none
         * @param exchange the stage's all-gather, for the losses that must see other tasks' numbers
         */
        Outcome apply(Tensor<Float> output, Tensor<Float> target, BarrierAllGather exchange);
    }

    /**
     * @param loss the loss of the whole global batch, the same double on every task
     * @param outputGradient the gradient of that loss with respect to this task's outputs (shape of the output)
     */
    public record Outcome(double loss, Tensor<Float> outputGradient, int negativesPerView) {
        /** The outcome of a loss that is not contrastive. */
        public Outcome(double loss, Tensor<Float> outputGradient) {
            this(loss, outputGradient, -1);
        }
    }

    /**
     * One iteration as every task sees it: the global batch's loss and the L2 norm of its gradient (before any
     * clipping), and for a contrastive loss the negatives each view was contrasted with (-1 otherwise).
     */
    public record Result(double loss, double gradientNorm, int negativesPerView) implements Serializable {
        public Result(double loss, double gradientNorm) {
            this(loss, gradientNorm, -1);
        }
    }

    /** Names of {@link #phaseNanos()}'s entries. */
    static final String[] PHASES = {"forward", "loss", "backward", "exchange", "update"};

    private final AbstractModule<Activity, Activity, Float> model;
    private final ParameterGroups groups;
    private final SliceLoss loss;
    private final BarrierAllGather gather;
    private final BarrierAllReduce exchange;
    private final Tensor<Float> weights;
    private final Tensor<Float> gradients;
    private final int tasks;
    private float[] buffer;
    private final long[] phaseNanos = new long[PHASES.length];

    private DataParallelStep(BarrierTaskContext context, AbstractModule<Activity, Activity, Float> model,
            SliceLoss loss, ParameterGroups groups, String tag) {
        this.model = model;
        this.groups = groups;
        this.loss = loss;
        this.gather = new BarrierAllGather(context);
        this.exchange = new BarrierAllReduce(context, tag, false);
        this.tasks = exchange.tasks();
        Tuple2<Tensor<Float>, Tensor<Float>> flat = model.getParameters();
        this.weights = flat._1();
        this.gradients = flat._2();
        if (groups.flatSize() != Tensors.size(weights)) {
            throw new IllegalArgumentException("the optimiser's parameter groups cover " + groups.flatSize()
                    + " elements, the model has " + Tensors.size(weights));
        }
        model.training();
        verifyIdenticalWeights();
    }

    /**
     * The step of the barrier task running on this thread, for {@code model} (this task's replica, built the same way
     * on every task: same seed, or loaded from the same checkpoint), {@code loss} and {@code method} (a fresh or
     * identically restored instance per task). Compacts the model's parameters ({@code getParameters()}) and checks
     * that every task's weights are bit-identical (one all-gather); fails outside a barrier stage.
     */
    public static DataParallelStep current(AbstractModule<Activity, Activity, Float> model, SliceLoss loss,
            OptimMethod<Float> method, String tag) {
        return current(model, loss, ParameterGroups.whole("all", method, Tensors.size(model.getParameters()._1())),
                tag);
    }

    /**
     * Like {@link #current(AbstractModule, SliceLoss, OptimMethod, String)} with one method per parameter group
     * ({@link ParameterGroups}, this task's own instances), each updating its slice of the flat buffer.
     */
    public static DataParallelStep current(AbstractModule<Activity, Activity, Float> model, SliceLoss loss,
            ParameterGroups groups, String tag) {
        return new DataParallelStep(BarrierTaskContext.get(), model, loss, groups, tag);
    }

    /** This task's index, its partition id. */
    public int task() {
        return exchange.task();
    }

    /** T, the tasks of the stage. */
    public int tasks() {
        return tasks;
    }

    /**
     * One training step on this task's slice {@code input} (a tensor, or a table such as a SimCLR batch's two views;
     * and {@code target}, or null) of the global batch: the class comment's five steps. Returns the global batch's
     * loss and gradient norm, the same on every task.
     */
    public Result iterate(Activity input, Tensor<Float> target) {
        Result result = forwardBackward(input, target);
        update(result.loss());
        return result;
    }

    /**
     * Steps 1 to 4 of {@link #iterate}: forward, the loss, backward and the exchange. Afterwards the replica's gradient
     * is the whole batch's, bit-identical on every task; a caller may inspect the result (the non-finite check),
     * scale the gradient ({@link #divideGradient}, for clipping) and must then call {@link #update}, on every task
     * alike.
     */
    public Result forwardBackward(Activity input, Tensor<Float> target) {
        return forwardBackward(input, target, null);
    }

    /**
     * {@link #forwardBackward(Activity, Tensor)} with the iteration's random key: forward and backward run in a
     * {@link StepContext} holding the stage's all-gather (SyncBatchNorm) and {@code draws} (drop-path; null: the
     * layers draw as outside a step).
     */
    public Result forwardBackward(Activity input, Tensor<Float> target, StepContext.Draws draws) {
        long start = System.nanoTime();
        model.zeroGradParameters();
        StepContext context = new StepContext(gather::doubles, draws);
        Tensor<Float> output = context.run(() -> model.forward(input).toTensor(FloatTypes.NUMERIC));
        long forwardDone = System.nanoTime();
        Outcome outcome = loss.apply(output, target, gather);
        long lossDone = System.nanoTime();
        context.run(() -> model.backward(input, outcome.outputGradient()));
        long backwardDone = System.nanoTime();

        float[] g = flatGradient();
        if (tasks > 1) {
            for (int i = 0; i < g.length; i++) {
                g[i] *= tasks; // exact for T a power of two; one rounding otherwise
            }
        }
        double norm = exchange.averageInPlace(g);
        writeBack(g);
        long end = System.nanoTime();
        phaseNanos[0] += forwardDone - start;
        phaseNanos[1] += lossDone - forwardDone;
        phaseNanos[2] += backwardDone - lossDone;
        phaseNanos[3] += end - backwardDone;
        return new Result(outcome.loss(), norm, outcome.negativesPerView());
    }

    /**
     * Divides the exchanged gradient by {@code divisor} (clipping to a global norm: {@code norm / maxNorm}), as
     * DLlib's clipping does, one float division per element: the same bits on every task.
     */
    public void divideGradient(double divisor) {
        gradients.div((float) divisor);
    }

    /**
     * Step 5 of {@link #iterate}: every parameter group's method updates its slice with its slice of the exchanged
     * gradient.
     */
    public void update(double lossValue) {
        update(lossValue, StepVerdict.APPLY);
    }

    /**
     * Step 5 under the non-finite rules' verdict ({@link StepVerdict}): a discarded gradient or a dropped step
     * changes no weight or moment, and the methods still count the call (step counts and schedules move on).
     */
    public void update(double lossValue, StepVerdict verdict) {
        long start = System.nanoTime();
        groups.update(weights, gradients, (float) lossValue, verdict);
        phaseNanos[4] += System.nanoTime() - start;
    }

    /** The replica's flat weights (the live buffer, for processors that act on the whole of it). */
    Tensor<Float> liveWeights() {
        return weights;
    }

    /** The replica's flat gradient (after {@link #forwardBackward}: the whole batch's). */
    Tensor<Float> liveGradients() {
        return gradients;
    }

    /** Nanoseconds spent in each of {@link #PHASES} over all iterations so far (measurements). */
    long[] phaseNanos() {
        return phaseNanos.clone();
    }

    /** Nanoseconds spent in each of {@link BarrierAllReduce#PHASES} over all iterations so far (measurements). */
    long[] exchangePhaseNanos() {
        return exchange.phaseNanos.clone();
    }

    /** A copy of the gradient of the last iteration (the whole batch's, after the exchange). */
    public float[] gradient() {
        return Tensors.toArray(gradients);
    }

    /** A copy of the flat weights. */
    public float[] weights() {
        return Tensors.toArray(weights);
    }

    /** A 64-bit hash of the weights' bits. */
    public long weightsHash() {
        return hash(Tensors.data(weights), Tensors.offset(weights), Tensors.size(weights));
    }

    /**
     * Checks the invariant: every task's weights have the same bits (their 64-bit hash and count, one all-gather);
     * throws {@link IllegalStateException} naming the first task that differs from task 0. Every task must call it.
     */
    public void verifyIdenticalWeights() {
        long mine = weightsHash();
        double[][] all = gather.doubles(new double[] {Double.longBitsToDouble(mine), Tensors.size(weights)});
        for (int t = 1; t < all.length; t++) {
            if (Double.doubleToRawLongBits(all[t][0]) != Double.doubleToRawLongBits(all[0][0])
                    || all[t][1] != all[0][1]) {
                throw new IllegalStateException("task " + t + "'s weights differ from task 0's (" + (long) all[t][1]
                        + " and " + (long) all[0][1] + " numbers): every replica must start from the same weights");
            }
        }
    }

    /** Ends the exchange (one barrier, its blocks removed); every task must call it after its last iteration. */
    @Override
    public void close() {
        exchange.close();
    }

    /**
     * A loss that is the mean of per-sample losses over the global batch of B samples (cross-entropy, MSE...):
     * {@code criterion} averages over its input's rows (DLlib's {@code sizeAverage}). Each task computes the mean
     * over its n_t rows, the tasks exchange {@code (n_t * mean_t, n_t)} (one all-gather, so B needs no configuring),
     * the loss is their sum over B (double, task order: the same on every task), and the output gradient is the
     * criterion's scaled by n_t / B.
     */
    public static SliceLoss meanOverGlobalBatch(AbstractCriterion<Tensor<Float>, Tensor<Float>, Float> criterion) {
        return (output, target, exchange) -> {
            int n = output.size(1);
            double mean = criterion.forward(output, target);
            double[][] all = exchange.doubles(new double[] {mean * n, n});
            double sum = 0;
            long batch = 0;
            for (double[] part : all) {
                sum += part[0];
                batch += (long) part[1];
            }
            Tensor<Float> gradient = criterion.backward(output, target).toTensor(FloatTypes.NUMERIC);
            gradient.mul((float) ((double) n / batch));
            return new Outcome(sum / batch, gradient);
        };
    }

    private float[] flatGradient() {
        float[] data = Tensors.data(gradients);
        int size = Tensors.size(gradients);
        if (Tensors.offset(gradients) == 0 && data.length == size && gradients.isContiguous()) {
            return data;
        }
        if (buffer == null || buffer.length != size) {
            buffer = new float[size];
        }
        System.arraycopy(data, Tensors.offset(gradients), buffer, 0, size);
        return buffer;
    }

    private void writeBack(float[] g) {
        float[] data = Tensors.data(gradients);
        if (g != data) {
            System.arraycopy(g, 0, data, Tensors.offset(gradients), g.length);
        }
    }

    private static long hash(float[] values, int from, int count) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < count; i++) {
            h ^= Float.floatToRawIntBits(values[from + i]);
            h *= 0x100000001b3L;
        }
        return h ^ Arrays.hashCode(new int[] {count});
    }
}
