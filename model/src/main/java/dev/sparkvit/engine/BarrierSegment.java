package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.feature.dataset.MiniBatch;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A segment of training iterations in one Spark job (issue 21: the loop's core; both training jobs' barrier loop,
 * {@code jobs.train.BarrierTraining}, runs one per segment). {@link #run} starts one
 * barrier stage ({@link BarrierStage}) of T tasks, one per partition of the training data, in which every task, for
 * each of the segment's iterations:
 * <ol>
 *   <li>takes its slice of the global batch: the next B / T samples of its partition, batched by
 *       {@link EpochBatches} (DLlib's SampleToMiniBatch) from the {@link EpochDataSet}'s endless per-partition
 *       stream;</li>
 *   <li>runs {@link DataParallelStep#forwardBackward}: forward, the global batch's loss, backward, the gradient
 *       exchange; every task then holds the whole batch's gradient and its global L2 norm, bit for bit the same.
 *       The forward's random numbers (drop-path) are keyed by {@link #seed}, the iteration and the rows' places in
 *       the global batch ({@link StepContext.Draws}), so they depend on the segment's {@link Start} only;</li>
 *   <li>stops on a non-finite loss or norm with a {@link NonFiniteTrainingException} naming the iteration, before
 *       anything of it reaches the weights or the optimiser state: every task sees the same numbers, so every task
 *       ends the exchange (one barrier, its blocks removed) and throws at the same iteration; the driver gets the
 *       exception back ({@link #nonFinite});</li>
 *   <li>clips the gradient to the global norm when it exceeds the bound (the same division on every task);</li>
 *   <li>with {@link #weightDecay}, decays the decayed ranges of the weights ({@link DecoupledWeightDecay}: multiplied
 *       by {@code 1 - lr_t * wd}, biases and norms excluded as the ranges say), then</li>
 *   <li>applies every parameter group's optimiser method to its slice ({@link ParameterGroups}).</li>
 * </ol>
 * With {@link #ema} every task also keeps the exponential moving average of its piece of the flat weights (piece t
 * of T, {@link GradientChunks}: the average is elementwise, so the pieces make the whole one; {@link Ema}, the
 * definition of {@link EmaContainer}): before the forward of each iteration that starts an optimiser step (every
 * iteration, or under accumulation of k micro-batches the iterations {@code t % k == 0}: {@link Ema#foldsBefore}) it
 * folds in its piece of the weights as they are then (after the previous step), as the container's training forward
 * does; the weights after a run's last step are folded once more by the caller ({@link Start#withFinalFold}), as the
 * product does at the end of training.
 *
 * <p><b>The state's way in and out</b> ({@link StateBlocks}): the driver puts the start's vectors (weights, every
 * optimiser buffer, the EMA cut in T pieces) as blocks of its BlockManager; every task reads the weights straight into
 * its replica, the buffers into its methods, and its own piece of the EMA, and keeps no other copy. At the end every
 * task puts piece t of each vector (its weights, each buffer, its EMA: 4P / T floats with AdamW and the EMA) as blocks
 * of its executor, and returns only the hashes of its whole weights and optimiser state, their shape, and (task 0) the
 * losses, norms and times; the driver checks every task's hashes against task 0's (the replicas never exchange
 * weights: they stay identical because they start identical and apply identical updates, so the pieces make one
 * state), reads the pieces, and removes the blocks it put and read (the tasks put their pieces before a last
 * barrier, so in a stage that fails every task fails, and each removes its own). So no task result grows with the
 * model, and no executor keeps the start after reading it (docs/ENGINE.md, "Memory per executor").
 *
 * <p><b>Contract between segments</b>: a segment starts from a {@link Start} (the iteration, the flat weights and the
 * optimiser state), put as blocks for its tasks; {@link Result#next()} is the start of the segment that continues it.
 * The data position is derived from the iteration alone (epoch = iteration / iterations per epoch, each partition at
 * {@code (iteration mod per-epoch) x B / T} of its epoch's order, {@link EpochDataSet#startAt}), not from anything
 * kept on the executors; so segments of 3 and 2 iterations give the bits of one segment of 5, and a segment started
 * from a checkpoint's {@code Start} reads what the uninterrupted run read. A segment never crosses an epoch's end.
 *
 * <p>Also in the segment: parameter groups ({@link ParameterGroups}: one method per group over its slice, on its own
 * schedule), LARS ({@link #parameterProcessor}: trust ratios from the exchanged gradient), gradient accumulation
 * ({@link GradientAccumulation} methods: an iteration is a micro-batch), skipping non-finite steps
 * ({@link #nonFinite}) and FreezeOut (every {@link IterationAware} module of the replica, the ViT encoder, is told the
 * iteration before each forward, so its frozen prefix's backward is skipped in every task).
 *
 * <p>A lost executor fails the stage as a whole; the jobs' loop restarts from the newest checkpoint
 * ({@code jobs.train.TrainingRestarts}). Not yet (docs/ENGINE.md): several replicas per task.
 */
public final class BarrierSegment implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BarrierSegment.class);

    /** Makes the global batch's loss in each task (a {@code SliceLoss} need not be serializable; this must be). */
    @FunctionalInterface
    public interface Loss extends Serializable {
        DataParallelStep.SliceLoss create();
    }

    /**
     * Where a segment starts: {@code iteration} iterations are done (0-based index of its first), the flat weights
     * (the model's {@code getParameters()} order) and the optimiser's state after them, and the EMA of the weights
     * ({@code ema}, flat, null when there is none yet) with its update count.
     */
    public record Start(long iteration, float[] weights, Map<String, PartitionedOptimizerState.GroupState> optimizer,
            float[] ema, long emaUpdates, boolean emaSkipsNextFold, List<Long> skipped) implements Serializable {
        public Start {
            optimizer = new LinkedHashMap<>(optimizer);
            skipped = List.copyOf(skipped);
        }

        /** A start of a run that skipped no step. */
        public Start(long iteration, float[] weights, Map<String, PartitionedOptimizerState.GroupState> optimizer,
                float[] ema, long emaUpdates) {
            this(iteration, weights, optimizer, ema, emaUpdates, false, List.of());
        }

        /**
         * This start, the end of a run, with the final fold of the weights of its last step, as the EMA's
         * final {@link EmaContainer#update()}, which fine-tuning makes when the run ends at a step's end: a
         * fold when {@code average} would fold before iteration {@link #iteration} ({@link Ema#foldsBefore}); none
         * when the run ends inside an accumulation group (that partial group took no step: the last step's weights
         * were folded before it); a pending dropped step's fold ({@link #emaSkipsNextFold}) consumed instead of done.
         * This start itself without an average.
         */
        public Start withFinalFold(Ema average) {
            if (average == null || ema == null || !average.foldsBefore(iteration)) {
                return this;
            }
            return emaSkipsNextFold ? new Start(iteration, weights, optimizer, ema, emaUpdates, false, skipped)
                    : new Start(iteration, weights, optimizer, average.folded(ema, emaUpdates, weights),
                            emaUpdates + 1, false, skipped);
        }

        /** A start without an EMA (a segment with {@link #ema} on then starts the average from the weights). */
        public Start(long iteration, float[] weights, Map<String, PartitionedOptimizerState.GroupState> optimizer) {
            this(iteration, weights, optimizer, null, 0);
        }

        /** The start of a run with one method over the whole buffer (group {@link #WHOLE}). */
        public static Start of(AbstractModule<?, ?, Float> model, OptimMethod<Float> method, long iteration) {
            return of(model, Map.of(WHOLE, method), iteration);
        }

        /** The start of a run: the model's weights and every group's method state as they are now. */
        public static Start of(AbstractModule<?, ?, Float> model, Map<String, OptimMethod<Float>> methods,
                long iteration) {
            Map<String, PartitionedOptimizerState.GroupState> states = new LinkedHashMap<>();
            methods.forEach((name, method) -> states.put(name, state(method)));
            return new Start(iteration, Tensors.toArray(model.getParameters()._1()), states);
        }
    }

    /** The group name of a segment built with one method over the whole flat buffer. */
    public static final String WHOLE = "all";

    /**
     * The EMA of the flat weights, exactly {@link EmaContainer}'s: update k (1-based) is
     * {@code ema = d * ema + (1 - d) * w} in float, with {@code d = decay}, or with warmup
     * {@code min(decay, (1 + k) / (10 + k))} (timm's ModelEmaV2), computed as the container computes it. With
     * {@code interval} k (the micro-batches of an optimiser step under {@link GradientAccumulation}) it folds before
     * iterations {@code t % k == 0} only (0-based, global), once per step, as the container with that interval.
     */
    public record Ema(double decay, boolean warmup, int interval) implements Serializable {
        public Ema {
            if (!(decay >= 0 && decay < 1)) {
                throw new IllegalArgumentException("EMA decay must be in [0, 1), got " + decay);
            }
            if (interval < 1) {
                throw new IllegalArgumentException("EMA interval must be at least 1, got " + interval);
            }
        }

        /** An EMA that folds before every iteration (no accumulation). */
        public Ema(double decay, boolean warmup) {
            this(decay, warmup, 1);
        }

        /**
         * Whether the fold before 0-based iteration {@code iteration} happens (the first iteration of a step): it
         * depends on the global iteration only, so a segment may start anywhere in an accumulation group.
         */
        public boolean foldsBefore(long iteration) {
            return iteration % interval == 0;
        }

        /** The decay of the update after {@code updates} updates ({@link EmaContainer#nextDecay}). */
        public float decayAfter(long updates) {
            double k = (float) updates + 1; // the container counts in a float tensor
            return (float) (warmup ? Math.min(decay, (1 + k) / (10 + k)) : decay);
        }

        /** Folds {@code weights[offset ...]} into {@code average}, the update after {@code updates} updates. */
        public void fold(float[] average, long updates, float[] weights, int offset) {
            float d = decayAfter(updates);
            for (int i = 0; i < average.length; i++) {
                average[i] = d * average[i] + (1 - d) * weights[offset + i];
            }
        }

        /** A copy of {@code average} with {@code weights} folded in (the final fold at the end of training). */
        public float[] folded(float[] average, long updates, float[] weights) {
            if (average.length != weights.length) {
                throw new IllegalArgumentException("an EMA of " + average.length + " values cannot fold "
                        + weights.length + " weights");
            }
            float[] copy = average.clone();
            fold(copy, updates, weights, 0);
            return copy;
        }
    }

    /**
     * What a segment returns to the driver.
     *
     * @param firstIteration 0-based index of its first iteration
     * @param losses the global batch's loss of every iteration
     * @param norms the global L2 norm of every iteration's gradient, before clipping
     * @param negativesPerView for a contrastive loss, the negatives each view met (2B - 2); -1 otherwise
     * @param optimizer every parameter group's optimiser state, by group name
     * @param ema the EMA of the weights after {@code emaUpdates} folds (the start's when the segment keeps none;
     *     null without one); the weights of the last update are not folded in yet (class comment)
     * @param emaSkipsNextFold the segment's last step was dropped (non-finite), so the next fold does not happen
     * @param skipped the iterations (0-based) the run skipped as non-finite so far: the start's and this segment's
     */
    public record Result(long firstIteration, int iterations, int tasks, float[] weights,
            Map<String, PartitionedOptimizerState.GroupState> optimizer, double[] losses, double[] norms,
            int negativesPerView, Timing timing, float[] ema, long emaUpdates, boolean emaSkipsNextFold,
            List<Long> skipped) {
        /** The start of the segment that continues this one. */
        public Start next() {
            return new Start(firstIteration + iterations, weights, optimizer, ema, emaUpdates, emaSkipsNextFold,
                    skipped);
        }

        /** The iterations of this segment that were skipped as non-finite (0-based, in order). */
        public List<Long> skippedHere() {
            return skipped.stream().filter(i -> i >= firstIteration).toList();
        }
    }

    /**
     * Task 0's time: the stage's wall time on the driver, each iteration's, and the sums over the segment of the
     * step's phases ({@code data}, {@link DataParallelStep#PHASES}, clipping and checks) and of the exchange's
     * ({@link BarrierAllReduce#PHASES}, prefixed {@code exchange:}).
     */
    public record Timing(double stageSeconds, long[] iterationNanos, Map<String, Long> phaseNanos) {
        /** The median iteration, in milliseconds. */
        public double medianIterationMillis() {
            long[] sorted = iterationNanos.clone();
            Arrays.sort(sorted);
            return sorted.length == 0 ? 0 : sorted[sorted.length / 2] / 1e6;
        }
    }

    /**
     * What one task returns, a few hundred bytes whatever the model (its state goes as blocks: {@link StateBlocks}):
     * the hashes of its whole weights and optimiser state, the shape of that state, and task 0 also its losses, norms
     * and times (null on the others).
     */
    record TaskOutcome(int task, long weightsHash, long optimizerHash, List<GroupShape> optimizer, double[] losses,
            double[] norms, int negativesPerView, long[] iterationNanos, long[] phaseNanos, String[] phaseNames,
            long emaUpdates, boolean emaSkipsNextFold, long[] skipped) implements Serializable {
    }

    /** A parameter group's state without its buffers' values: its steps, its buffers' names and lengths, in order. */
    record GroupShape(String name, long step, List<String> buffers, int[] lengths) implements Serializable {
        static List<GroupShape> of(Map<String, PartitionedOptimizerState.GroupState> state) {
            List<GroupShape> shapes = new java.util.ArrayList<>();
            state.forEach((name, group) -> shapes.add(new GroupShape(name, group.step(),
                    List.copyOf(group.buffers().keySet()),
                    group.buffers().values().stream().mapToInt(values -> values.length).toArray())));
            return shapes;
        }
    }

    /**
     * A {@link Start} without its vectors, which the tasks read from the run's blocks ({@link #run}): vector
     * {@code s_w} the weights, {@code s_o<i>_<j>} buffer j of group i, {@code s_e<t>} task t's piece of the EMA
     * (present when {@code ema}).
     */
    private record StartShape(String run, long iteration, int weights, List<GroupShape> optimizer, boolean ema,
            long emaUpdates, boolean emaSkipsNextFold, List<Long> skipped) implements Serializable {
    }

    /** What every task needs besides the model: the segment's settings and where its start is. */
    private record Settings(ParameterGroups groups, Loss loss, double clip, DecoupledWeightDecay decay,
            LarsAdaptation lars, Ema ema, NonFinitePolicy policy, int epoch, int iterations, long seed,
            int globalBatch, StartShape start) implements Serializable {
    }

    private final EpochDataSet<?> data;
    private final EpochBatches batches;
    private final JavaSparkContext sc;
    private final Broadcast<AbstractModule<Activity, Activity, Float>> model;
    private final Loss loss;
    private final ParameterGroups groups;
    private final int globalBatch;
    private final int tasks;
    private final long iterationsPerEpoch;
    private double clipNorm;
    private DecoupledWeightDecay weightDecay;
    private LarsAdaptation lars;
    private NonFinitePolicy nonFinite = NonFinitePolicy.stop();
    private Ema ema;
    private long seed = Seeds.DEFAULT;

    /**
     * @param model the model as the driver built it (broadcast once; each task trains its own copy, whose weights
     *     each segment sets from its {@link Start})
     * @param data the training samples, one partition per task (the stage needs that many free slots at once)
     * @param globalBatch B, a multiple of the partitions (each task takes B / T samples per iteration)
     * @param loss the global batch's loss ({@code DataParallelStep.meanOverGlobalBatch},
     *     {@code BarrierNtXent.sliceLoss})
     * @param method the optimiser method over the whole flat buffer (group {@link #WHOLE}), a
     *     {@link StatefulOptimMethod}; each task gets a copy, whose state each segment restores from its {@link Start}
     */
    public BarrierSegment(AbstractModule<Activity, Activity, Float> model, EpochDataSet<?> data, int globalBatch,
            Loss loss, OptimMethod<Float> method) {
        this(model, data, globalBatch, loss, Map.of(WHOLE, method), Map.of(WHOLE,
                new PartitionedOptimizerState.Slice(0, model.getParameters()._1().nElement())));
    }

    /**
     * A segment whose optimiser is one method per parameter group ({@link ParameterGroups}): each group's method
     * updates only its slice of the flat weights, with its slice of the exchanged gradient, on its own schedule; a
     * {@link Start}'s and {@link Result}'s optimiser state is keyed by group name.
     *
     * @param methods group name to method ({@link StatefulOptimMethod}s, possibly {@link GradientAccumulation}s of
     *     one step count); each task gets copies
     * @param slices group name to its slice of the model's (compacted) flat buffer
     *     ({@link PartitionedOptimizerState#slices}); the slices must cover the buffer without overlap
     */
    public BarrierSegment(AbstractModule<Activity, Activity, Float> model, EpochDataSet<?> data, int globalBatch,
            Loss loss, Map<String, OptimMethod<Float>> methods,
            Map<String, PartitionedOptimizerState.Slice> slices) {
        this.groups = ParameterGroups.of(methods, slices, model.getParameters()._1().nElement());
        this.tasks = data.originRDD().getNumPartitions();
        if (globalBatch < tasks || globalBatch % tasks != 0) {
            throw new IllegalArgumentException("the global batch " + globalBatch + " must be a multiple of the "
                    + tasks + " data partitions (one barrier task each)");
        }
        this.data = data;
        this.globalBatch = globalBatch;
        this.iterationsPerEpoch = (data.size() + globalBatch - 1) / globalBatch;
        this.batches = new EpochBatches(data, globalBatch, tasks);
        this.sc = JavaSparkContext.fromSparkContext(data.originRDD().sparkContext());
        model.getParameters(); // compact once: the flat order the weights of every Start follow
        this.model = sc.broadcast(model);
        this.loss = loss;
    }

    /** Clips every iteration's gradient to this global L2 norm (0: no clipping). */
    public BarrierSegment clipGradientNorm(double maxNorm) {
        if (!(maxNorm >= 0) || Double.isInfinite(maxNorm)) {
            throw new IllegalArgumentException("gradient clipping norm must be finite and >= 0, got " + maxNorm);
        }
        this.clipNorm = maxNorm;
        return this;
    }

    /**
     * Decoupled weight decay before every update (class comment); its ranges are positions in the model's flat
     * buffer and its rates follow the 0-based iteration. Null: none.
     */
    public BarrierSegment weightDecay(DecoupledWeightDecay decay) {
        this.weightDecay = decay;
        return this;
    }

    /**
     * What runs on the exchanged gradient before the methods ({@code PretrainOptimizers.processor}): a
     * {@link DecoupledWeightDecay} ({@link #weightDecay}) or a {@link LarsAdaptation} (trust ratios from the whole
     * exchanged gradient, which every task holds: no extra exchange). Null: none.
     */
    public BarrierSegment parameterProcessor(GradientProcessor processor) {
        this.weightDecay = processor instanceof DecoupledWeightDecay decay ? decay : null;
        this.lars = processor instanceof LarsAdaptation adaptation ? adaptation : null;
        return this;
    }

    /**
     * What a non-finite loss or gradient norm does ({@link NonFinitePolicy}; default stop). With skip, every task
     * skips the same iteration (it sees the same loss and norm): no update, no decay, no EMA fold of its weights,
     * ({@link NonFiniteGuard}'s rules); the run's bound counts the start's skips too.
     */
    public BarrierSegment nonFinite(NonFinitePolicy policy) {
        this.nonFinite = java.util.Objects.requireNonNull(policy, "policy");
        return this;
    }

    /** The optimiser's parameter groups (group name to slice, in flat order) and their accumulation. */
    public ParameterGroups groups() {
        return groups;
    }

    /**
     * Keeps the EMA of the weights, a piece per task (class comment). Null: none (a start's average is carried as
     * is).
     */
    public BarrierSegment ema(Ema average) {
        this.ema = average;
        return this;
    }

    /**
     * The run's seed, the first part of every iteration's random key ({@link StepContext.Draws}: seed, iteration,
     * the task's slice of the global batch), which drop-path draws from. Default {@link Seeds#DEFAULT}.
     */
    public BarrierSegment seed(long runSeed) {
        this.seed = runSeed;
        return this;
    }

    /** T, the barrier tasks of every segment: the data's partitions. */
    public int tasks() {
        return tasks;
    }

    /** Iterations per epoch: ceil(samples / B). */
    public long iterationsPerEpoch() {
        return iterationsPerEpoch;
    }

    /**
     * Runs {@code iterations} iterations from {@code start} in one barrier stage (class comment).
     *
     * @throws NonFiniteTrainingException when an iteration's loss or gradient norm is not finite (nothing of it
     *     applied; the whole segment is lost, its start is still valid)
     */
    public Result run(Start start, int iterations) {
        if (iterations < 1) {
            throw new IllegalArgumentException("a segment runs at least one iteration, not " + iterations);
        }
        long first = start.iteration();
        int epoch = (int) (first / iterationsPerEpoch);
        long inEpoch = first % iterationsPerEpoch;
        if (inEpoch + iterations > iterationsPerEpoch) {
            throw new IllegalArgumentException("iterations " + (first + 1) + " to " + (first + iterations) + " cross "
                    + "the end of epoch " + (epoch + 1) + " (" + iterationsPerEpoch + " iterations an epoch): a "
                    + "segment ends at its epoch's end at the latest");
        }
        if (ema != null && start.ema() == null && first != 0) {
            throw new IllegalArgumentException("a segment keeping the EMA starts at iteration 0 or from a start "
                    + "that carries the average, not at iteration " + first + " without one");
        }
        if (start.ema() != null && start.ema().length != start.weights().length) {
            throw new IllegalArgumentException("the start's EMA has " + start.ema().length + " values, its weights "
                    + start.weights().length);
        }
        if (start.weights().length != groups.flatSize()) {
            throw new IllegalArgumentException("the segment starts from " + start.weights().length + " weights, the "
                    + "model has " + groups.flatSize());
        }
        data.startAt(epoch, inEpoch * globalBatch);
        if (inEpoch == 0) {
            data.shuffle(); // startAt leaves an epoch's start one epoch behind; the shuffle enters the epoch
        }
        JavaRDD<MiniBatch<Float>> rdd = batches.data(true).toJavaRDD();

        StateBlocks blocks = new StateBlocks(StateBlocks.newRun());
        try {
            return run(start, iterations, epoch, rdd, blocks);
        } finally {
            blocks.removeSeen(); // the start and the pieces read; a failed stage's tasks removed their own
        }
    }

    /** {@link #run(Start, int)} with the start put as the run's blocks, its tasks' state read back from theirs. */
    private Result run(Start start, int iterations, int epoch, JavaRDD<MiniBatch<Float>> rdd, StateBlocks blocks) {
        long first = start.iteration();
        StartShape shape = put(start, blocks, ema != null);
        Broadcast<AbstractModule<Activity, Activity, Float>> modelBroadcast = model;
        Settings settings = new Settings(groups, loss, clipNorm, weightDecay, lars, ema, nonFinite, epoch,
                iterations, seed, globalBatch, shape);
        BarrierStage.Task<MiniBatch<Float>, TaskOutcome> task = partition -> train(modelBroadcast.value(), settings,
                partition);
        long started = System.nanoTime();
        List<TaskOutcome> outcomes;
        try {
            outcomes = BarrierStage.collect(rdd, task, TaskOutcome.class);
        } catch (Exception e) { // SparkException, checked in Java, comes through Scala undeclared
            NonFiniteTrainingException nonFinite = nonFinite(e, epoch);
            if (nonFinite != null) {
                throw nonFinite;
            }
            throw e; // precise rethrow: only what the try block can throw
        } finally {
            blocks.removeSeen(); // the start, read by every task by now: its memory on the driver before the result's
        }
        double seconds = (System.nanoTime() - started) / 1e9;

        TaskOutcome zero = outcomes.get(0);
        for (TaskOutcome other : outcomes) {
            if (other.weightsHash() != zero.weightsHash() || other.optimizerHash() != zero.optimizerHash()) {
                throw new IllegalStateException("after iteration " + (first + iterations) + " task " + other.task()
                        + "'s " + (other.weightsHash() != zero.weightsHash() ? "weights" : "optimiser state")
                        + " differ from task 0's: the replicas diverged");
            }
        }
        Map<String, Long> phases = new LinkedHashMap<>();
        for (int i = 0; i < zero.phaseNames().length; i++) {
            phases.put(zero.phaseNames()[i], zero.phaseNanos()[i]);
        }
        List<Long> skipped = new java.util.ArrayList<>(start.skipped());
        for (long s : zero.skipped()) {
            skipped.add(s);
        }
        if (zero.skipped().length > 0) {
            LOG.warn("segment: skipped iterations {} as non-finite ({} of at most {} in the run)",
                    Arrays.toString(Arrays.stream(zero.skipped()).map(i -> i + 1).toArray()), skipped.size(),
                    nonFinite.maxSkipped());
        }
        int count = outcomes.size();
        float[] weights = gather(blocks, "r_w", groups.flatSize(), count);
        Map<String, PartitionedOptimizerState.GroupState> optimizer = new LinkedHashMap<>();
        for (int i = 0; i < zero.optimizer().size(); i++) {
            GroupShape group = zero.optimizer().get(i);
            Map<String, float[]> buffers = new LinkedHashMap<>();
            for (int j = 0; j < group.buffers().size(); j++) {
                buffers.put(group.buffers().get(j), gather(blocks, "r_o" + i + "_" + j + "_", group.lengths()[j],
                        count));
            }
            optimizer.put(group.name(), new PartitionedOptimizerState.GroupState(group.step(), buffers));
        }
        Result result = new Result(first, iterations, count, weights, optimizer, zero.losses(), zero.norms(),
                zero.negativesPerView(), new Timing(seconds, zero.iterationNanos(), phases),
                ema != null ? gather(blocks, "r_e", groups.flatSize(), count) : start.ema(),
                ema != null ? zero.emaUpdates() : start.emaUpdates(),
                ema != null ? zero.emaSkipsNextFold() : start.emaSkipsNextFold(), skipped);
        LOG.info("segment: iterations {} to {} of global batch {} on {} barrier tasks{} in {} s (median {} ms an "
                        + "iteration), last loss {}", first + 1, first + iterations, globalBatch, outcomes.size(),
                zero.negativesPerView() >= 0 ? ", " + zero.negativesPerView() + " negatives per view" : "",
                String.format("%.2f", seconds), String.format("%.1f", result.timing().medianIterationMillis()),
                zero.losses()[iterations - 1]);
        return result;
    }

    /**
     * Puts {@code start}'s vectors as the run's blocks (names: {@link StartShape}); the EMA in one piece per task
     * when {@code keepsEma} and the start has one (a segment without an EMA carries the start's on the driver).
     */
    private StartShape put(Start start, StateBlocks blocks, boolean keepsEma) {
        blocks.put("s_w", start.weights(), 0, start.weights().length);
        List<GroupShape> optimizer = GroupShape.of(start.optimizer());
        int i = 0;
        for (PartitionedOptimizerState.GroupState group : start.optimizer().values()) {
            int j = 0;
            for (float[] values : group.buffers().values()) {
                blocks.put("s_o" + i + "_" + j, values, 0, values.length);
                j++;
            }
            i++;
        }
        boolean ema = keepsEma && start.ema() != null;
        if (ema) {
            GradientChunks pieces = new GradientChunks(start.ema().length, tasks);
            for (int t = 0; t < tasks; t++) {
                blocks.put("s_e" + t, start.ema(), pieces.from(t), pieces.size(t));
            }
        }
        return new StartShape(blocks.run(), start.iteration(), start.weights().length, optimizer, ema,
                start.emaUpdates(), start.emaSkipsNextFold(), start.skipped());
    }

    /** A vector of {@code length} floats from the pieces {@code <prefix><t>} of {@code tasks} tasks. */
    private static float[] gather(StateBlocks blocks, String prefix, int length, int tasks) {
        float[] values = new float[length];
        GradientChunks pieces = new GradientChunks(length, tasks);
        for (int t = 0; t < tasks; t++) {
            blocks.read(prefix + t, values, pieces.from(t), pieces.size(t));
        }
        return values;
    }

    /** Frees the model's broadcast. */
    @Override
    public void close() {
        model.destroy();
    }

    /** One task's segment (class comment). */
    private static TaskOutcome train(AbstractModule<Activity, Activity, Float> shared, Settings settings,
            Iterator<MiniBatch<Float>> partition) {
        StartShape start = settings.start();
        StateBlocks blocks = new StateBlocks(start.run());
        // a copy per task: in local mode the tasks share the broadcast's object
        AbstractModule<Activity, Activity, Float> replica = shared.cloneModule();
        Tensor<Float> weights = replica.getParameters()._1();
        if (Tensors.size(weights) != start.weights()) {
            throw new IllegalArgumentException("the segment starts from " + start.weights() + " weights, the "
                    + "model has " + Tensors.size(weights));
        }
        blocks.read("s_w", Tensors.data(weights), Tensors.offset(weights), start.weights());
        ParameterGroups groups = settings.groups().copy();
        groups.restore(readOptimizer(blocks, start.optimizer()));
        List<IterationAware> counters = new java.util.ArrayList<>();
        iterationAware(replica, counters);
        Ema ema = settings.ema();
        NonFinitePolicy policy = settings.policy();
        int stepEvery = groups.stepEvery();
        int epoch = settings.epoch();
        int iterations = settings.iterations();

        DataParallelStep step = DataParallelStep.current(replica, settings.loss().create(), groups, "segment");
        Tensor<Float> live = step.liveWeights(); // the buffer the step updates
        float[] weightData = Tensors.data(live);
        int weightOffset = Tensors.offset(live);
        // this task's piece of the EMA (class comment); a start without one begins it from its weights, as
        // EmaContainer
        GradientChunks pieces = new GradientChunks(start.weights(), step.tasks());
        int piece = pieces.from(step.task());
        float[] average = null;
        if (ema != null) {
            average = new float[pieces.size(step.task())];
            if (start.ema()) {
                blocks.read("s_e" + step.task(), average, 0, average.length);
            } else {
                System.arraycopy(weightData, weightOffset + piece, average, 0, average.length);
            }
        }
        long emaUpdates = start.ema() ? start.emaUpdates() : 0;
        boolean skipFold = start.emaSkipsNextFold();
        List<Long> skipped = new java.util.ArrayList<>(start.skipped());
        int skippedBefore = skipped.size();
        long seed = settings.seed();
        int globalBatch = settings.globalBatch();
        int slice = globalBatch / step.tasks(); // the tasks' slices stacked in task order make the global batch
        double[] losses = new double[iterations];
        double[] norms = new double[iterations];
        long[] iterationNanos = new long[iterations];
        long dataNanos = 0;
        long checkNanos = 0;
        int negatives = -1;
        for (int k = 0; k < iterations; k++) {
            long t0 = System.nanoTime();
            long iteration = start.iteration() + k;
            if (!partition.hasNext()) {
                throw new IllegalStateException("partition " + step.task() + " has no batch for iteration "
                        + (iteration + 1));
            }
            MiniBatch<Float> batch = partition.next();
            for (IterationAware counter : counters) {
                counter.setIteration(iteration); // FreezeOut's frozen prefix follows the global iteration
            }
            if (ema != null && ema.foldsBefore(iteration)) { // the weights after the previous step, as
                // EmaContainer's forward folds them
                if (skipFold) {
                    skipFold = false; // a dropped step's weights: already folded in (EmaContainer.skipNextFold)
                } else {
                    ema.fold(average, emaUpdates, weightData, weightOffset + piece);
                    emaUpdates++;
                }
            }
            Activity input = batch.getInput();
            Tensor<Float> target = batch.getTarget() == null ? null : batch.getTarget().toTensor(FloatTypes.NUMERIC);
            long t1 = System.nanoTime();
            StepContext.Draws draws = new StepContext.Draws(seed, iteration, step.task() * slice, slice, globalBatch);
            DataParallelStep.Result result = step.forwardBackward(input, target, draws);
            long t2 = System.nanoTime();
            // every task has the same loss and norm bits, so every task reaches the same verdict
            NonFiniteStep seen = new NonFiniteStep(iteration, epoch, result.loss(), result.gradientNorm(),
                    skipped.size());
            StepVerdict verdict;
            try {
                verdict = NonFiniteGuard.decide(policy, stepEvery, seen,
                        NonFiniteGuard.groupHasSkip(skipped, iteration, stepEvery));
            } catch (NonFiniteTrainingException stop) {
                // all stop here, before the update. They end the exchange together first (a barrier, then their
                // blocks removed): a task throwing at once would remove its sum block while another task may still
                // be reading it, and that task would fail with "block ... is on no executor" instead of this message
                step.close();
                throw stop;
            }
            if (!NonFiniteGuard.finite(seen)) {
                skipped.add(iteration);
            }
            if (verdict == StepVerdict.APPLY) {
                if (settings.clip() > 0 && result.gradientNorm() > settings.clip()) {
                    step.divideGradient(result.gradientNorm() / settings.clip());
                }
                if (settings.lars() != null) {
                    settings.lars().adaptWhole(live, step.liveGradients()); // the exchanged gradient: no exchange
                }
                if (settings.decay() != null) {
                    settings.decay().apply(live, 0, iteration); // decay, then the update: torch.optim.AdamW's order
                }
            } else if (verdict == StepVerdict.DROP_STEP) {
                skipFold = true; // the weights stay: the next fold would take them in twice
            }
            long t3 = System.nanoTime();
            step.update(result.loss(), verdict);
            losses[k] = result.loss();
            norms[k] = result.gradientNorm();
            negatives = result.negativesPerView();
            dataNanos += t1 - t0;
            checkNanos += t3 - t2;
            iterationNanos[k] = System.nanoTime() - t0;
        }
        step.close();
        // the last backward's activations and input gradients (vit_tiny at 32 px, 32 images: about 1.7 GB a task)
        // are dead now; the copies below and the result's serialisation come at the task's peak without them
        replica.clearState();

        Map<String, PartitionedOptimizerState.GroupState> state = groups.state();
        long weightsHash = step.weightsHash();
        long optimizerHash = ParameterGroups.hash(state);
        List<GroupShape> shapes = GroupShape.of(state);
        // a task that fails from here on removes its pieces; the barrier after the puts makes every task fail with it
        // (the driver reads no piece of a failed stage, and only the driver removes the pieces of a successful one)
        org.apache.spark.BarrierTaskContext context = org.apache.spark.BarrierTaskContext.get();
        context.addTaskFailureListener(
                (org.apache.spark.util.TaskFailureListener) (ended, error) -> blocks.removeSeen());
        putPieces(blocks, step.task(), step.tasks(), live, state, average);
        state = null; // the copies: not to be kept through the result's serialisation
        BarrierWaker.during(() -> {
            context.barrier();
            return null;
        });
        List<String> names = new java.util.ArrayList<>();
        List<Long> nanos = new java.util.ArrayList<>();
        names.add("data");
        nanos.add(dataNanos);
        long[] stepPhases = step.phaseNanos();
        for (int i = 0; i < DataParallelStep.PHASES.length; i++) {
            names.add(DataParallelStep.PHASES[i]);
            nanos.add(stepPhases[i]);
        }
        names.add("checks and clipping");
        nanos.add(checkNanos);
        long[] exchangePhases = step.exchangePhaseNanos();
        for (int i = 0; i < BarrierAllReduce.PHASES.length; i++) {
            names.add("exchange: " + BarrierAllReduce.PHASES[i]);
            nanos.add(exchangePhases[i]);
        }
        long[] phaseNanos = nanos.stream().mapToLong(Long::longValue).toArray();
        long[] skippedHere = skipped.subList(skippedBefore, skipped.size()).stream().mapToLong(Long::longValue)
                .toArray();
        if (step.task() == 0) {
            return new TaskOutcome(0, weightsHash, optimizerHash, shapes, losses, norms, negatives, iterationNanos,
                    phaseNanos, names.toArray(new String[0]), emaUpdates, skipFold, skippedHere);
        }
        return new TaskOutcome(step.task(), weightsHash, optimizerHash, shapes, null, null, negatives, null, null,
                null, emaUpdates, skipFold, skippedHere);
    }

    /** Every group's state from the start's blocks ({@link StartShape}). */
    private static Map<String, PartitionedOptimizerState.GroupState> readOptimizer(StateBlocks blocks,
            List<GroupShape> shapes) {
        Map<String, PartitionedOptimizerState.GroupState> state = new LinkedHashMap<>();
        for (int i = 0; i < shapes.size(); i++) {
            GroupShape group = shapes.get(i);
            Map<String, float[]> buffers = new LinkedHashMap<>();
            for (int j = 0; j < group.buffers().size(); j++) {
                float[] values = new float[group.lengths()[j]];
                blocks.read("s_o" + i + "_" + j, values, 0, values.length);
                buffers.put(group.buffers().get(j), values);
            }
            state.put(group.name(), new PartitionedOptimizerState.GroupState(group.step(), buffers));
        }
        return state;
    }

    /**
     * Puts task {@code task}'s piece ({@link GradientChunks} of T) of every state vector as the run's blocks, which
     * the driver reads back ({@link #gather}): {@code r_w<t>} of the weights, {@code r_o<i>_<j>_<t>} of buffer j of
     * group i, {@code r_e<t>} the task's EMA (its piece already).
     */
    private static void putPieces(StateBlocks blocks, int task, int tasks, Tensor<Float> weights,
            Map<String, PartitionedOptimizerState.GroupState> state, float[] average) {
        GradientChunks pieces = new GradientChunks(Tensors.size(weights), tasks);
        blocks.put("r_w" + task, Tensors.data(weights), Tensors.offset(weights) + pieces.from(task),
                pieces.size(task));
        int i = 0;
        for (PartitionedOptimizerState.GroupState group : state.values()) {
            int j = 0;
            for (float[] values : group.buffers().values()) {
                GradientChunks buffer = new GradientChunks(values.length, tasks);
                blocks.put("r_o" + i + "_" + j + "_" + task, values, buffer.from(task), buffer.size(task));
                j++;
            }
            i++;
        }
        if (average != null) {
            blocks.put("r_e" + task, average, 0, average.length);
        }
    }

    /** Every {@link IterationAware} module of {@code module}'s tree. */
    private static void iterationAware(AbstractModule<?, ?, ?> module, List<IterationAware> found) {
        if (module instanceof IterationAware aware) {
            found.add(aware);
        }
        if (module instanceof com.intel.analytics.bigdl.dllib.nn.Container<?, ?, ?> container) {
            scala.collection.Iterator<? extends AbstractModule<?, ?, ?>> children = container.modules().iterator();
            while (children.hasNext()) {
                iterationAware(children.next(), found);
            }
        }
    }

    static PartitionedOptimizerState.GroupState state(OptimMethod<Float> method) {
        if (!(method instanceof StatefulOptimMethod stateful)) {
            throw new IllegalArgumentException("the optimisation method " + method + " cannot save its state");
        }
        return new PartitionedOptimizerState.GroupState(stateful.step(), new LinkedHashMap<>(stateful.buffers()));
    }

    private static final java.util.regex.Pattern NON_FINITE = java.util.regex.Pattern.compile(
            NonFiniteTrainingException.class.getName().replace(".", "\\.") + ": (non-finite ([^\\n]*) at iteration "
                    + "(\\d+)[^\\n]*)");
    private static final java.util.regex.Pattern LOSS = java.util.regex.Pattern.compile("(?:^|[ (])loss ([^,) ]+)");
    private static final java.util.regex.Pattern SKIPPED = java.util.regex.Pattern.compile(
            "\\) after (\\d+) skipped steps");
    private static final java.util.regex.Pattern NORM = java.util.regex.Pattern.compile("gradient norm ([^,) ]+)");

    /**
     * The tasks' {@link NonFiniteTrainingException} behind a failed barrier stage, or null. Spark 3.1 aborts a failed
     * barrier result stage without the task's exception as a cause ("Could not recover from a failed barrier
     * ResultStage", never retried), only its text: the step is read back from the one-line message (loss and norm as
     * the message printed them), with the Spark failure as the cause.
     */
    static NonFiniteTrainingException nonFinite(Throwable failure, int epoch) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof NonFiniteTrainingException found) {
                return found;
            }
        }
        java.util.regex.Matcher line = NON_FINITE.matcher(String.valueOf(failure.getMessage()));
        if (!line.find()) {
            return null;
        }
        String what = line.group(2);
        java.util.regex.Matcher loss = LOSS.matcher(what);
        java.util.regex.Matcher norm = NORM.matcher(what);
        java.util.regex.Matcher after = SKIPPED.matcher(line.group(1));
        int skippedBefore = after.find() ? Integer.parseInt(after.group(1)) : 0;
        NonFiniteStep step = new NonFiniteStep(Long.parseLong(line.group(3)) - 1, epoch,
                loss.find() ? Double.parseDouble(loss.group(1)) : Double.NaN,
                norm.find() ? Double.parseDouble(norm.group(1)) : Double.NaN, skippedBefore);
        NonFiniteTrainingException rebuilt = new NonFiniteTrainingException(step, skippedBefore);
        rebuilt.initCause(failure);
        return rebuilt;
    }
}
