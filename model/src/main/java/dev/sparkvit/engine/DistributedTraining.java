package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.feature.dataset.MiniBatch;
import com.intel.analytics.bigdl.dllib.feature.dataset.Sample;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractCriterion;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.optim.DistriOptimizer;
import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import com.intel.analytics.bigdl.dllib.optim.Optimizer;
import com.intel.analytics.bigdl.dllib.optim.Optimizer$;
import com.intel.analytics.bigdl.dllib.optim.Trigger;
import com.intel.analytics.bigdl.dllib.optim.parameters.ParameterProcessor;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import com.intel.analytics.bigdl.dllib.utils.Table;
import com.intel.analytics.bigdl.dllib.visualization.TrainSummary;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.spark.rdd.RDD;
import scala.collection.JavaConverters;

/**
 * Synchronous data-parallel training with DLlib's DistriOptimizer, from Java.
 *
 * <p>DistriOptimizer cuts every mini-batch into one slice per model replica (executors x cores per executor with the
 * default engine) and averages the gradients; the batch size must therefore be a multiple of the replica count,
 * which {@link #optimize()} checks with a clear message before any Spark work starts. The loss of every iteration is
 * written as a TensorBoard scalar ("Loss") under {@code summaryDir/appName/train}.
 *
 * <p>Training can run in segments ({@link #trainUntil}): each segment is one {@code optimize()} call of the same
 * DLlib optimizer, which keeps its iteration, epoch and record counters in the driver's optimisation methods and,
 * with {@code reserveOptim}, the partitions' optimisation methods (their moments) in a cached RDD. Between segments
 * the caller checkpoints ({@link #progress()}, {@link #partitionMethods()}) and monitors; {@link #resume} puts a
 * checkpoint back before the first segment.
 */
public final class DistributedTraining {
    private final AbstractModule<Activity, Activity, Float> model;
    private final RDD<Sample<Float>> samples;
    private final EpochDataSet<?> epochSamples;
    private final AbstractCriterion<Activity, Activity, Float> criterion;
    private final int batchSize;
    private OptimMethod<Float> optimMethod = OptimMethods.sgd(0.01, 0.0);
    private Map<String, OptimMethod<Float>> optimMethodsBySubmodule;
    private Trigger endWhen = Triggers.maxEpoch(1);
    private TrainSummary summary;
    private Path summaryFolder;
    private boolean summaryClosed;
    private String compression = "none";
    private final List<ParameterProcessor> processors = new ArrayList<>();
    private double clipNorm;
    private Optimizer<Float, MiniBatch<Float>> optimizer;
    private List<Map<String, OptimMethod<Float>>> restoredPartitionMethods;
    private RDD<?> lastMethodsRdd;
    private NonFinitePolicy nonFinite;
    private java.util.function.Consumer<NonFiniteStep> onSkippedStep = step -> { };
    private final List<Long> skippedIterations = new ArrayList<>();
    private NonFiniteTrainingException stoppedBy;
    private NonFiniteGuard guard;
    /** The resumed methods while their RDD is in use (until the first segment's methods replace it). */
    private RestoredMethods.Cached restored;

    /**
     * Where training stands: iterations taken, the current epoch (0-based) and the records of it processed so far.
     */
    public record Progress(long iterations, int epoch, long recordsInEpoch) {
        public Progress {
            if (iterations < 0 || epoch < 0 || recordsInEpoch < 0) {
                throw new IllegalArgumentException("training progress must be non-negative: " + iterations
                        + " iterations, epoch " + epoch + ", " + recordsInEpoch + " records");
            }
        }
    }

    /** Exactly one of {@code samples} and {@code epochSamples} is set. */
    @SuppressWarnings("unchecked")
    private DistributedTraining(AbstractModule<?, ?, Float> model, RDD<Sample<Float>> samples,
            EpochDataSet<?> epochSamples, AbstractCriterion<?, ?, Float> criterion, int batchSize) {
        // DLlib declares its optimiser over Activity in and out; every module and criterion is one at run time.
        this.model = (AbstractModule<Activity, Activity, Float>) (AbstractModule<?, ?, ?>) model;
        this.samples = samples;
        this.epochSamples = epochSamples;
        this.criterion = (AbstractCriterion<Activity, Activity, Float>) (AbstractCriterion<?, ?, ?>) criterion;
        this.batchSize = batchSize;
    }

    /** Like {@link #of(AbstractModule, RDD, AbstractCriterion, int)}, with samples rebuilt every epoch. */
    public static DistributedTraining of(AbstractModule<?, ?, Float> model, EpochDataSet<?> samples,
            AbstractCriterion<?, ?, Float> criterion, int batchSize) {
        return new DistributedTraining(model, null, Objects.requireNonNull(samples, "samples"), criterion, batchSize);
    }

    /**
     * @param model any DLlib module taking a batch of sample features
     * @param samples training samples; both views of a contrastive pair must live in one sample
     * @param criterion the loss, evaluated per replica slice
     * @param batchSize global mini-batch size, a multiple of the replica count
     */
    public static DistributedTraining of(AbstractModule<?, ?, Float> model, RDD<Sample<Float>> samples,
            AbstractCriterion<?, ?, Float> criterion, int batchSize) {
        return new DistributedTraining(model, Objects.requireNonNull(samples, "samples"), null, criterion, batchSize);
    }

    public DistributedTraining optimMethod(OptimMethod<Float> method) {
        this.optimMethod = Objects.requireNonNull(method, "optimMethod");
        return this;
    }

    /**
     * One optimisation method per named submodule (DLlib's per-submodule optimisers): every parameter must belong to
     * exactly one of the named submodules, each owning a contiguous slice of the flat parameter buffer.
     */
    public DistributedTraining optimMethods(Map<String, OptimMethod<Float>> bySubmodule) {
        if (bySubmodule.isEmpty()) {
            throw new IllegalArgumentException("per-submodule optimisers need at least one submodule");
        }
        this.optimMethodsBySubmodule = new LinkedHashMap<>(bySubmodule);
        return this;
    }

    /**
     * Scales the averaged gradient down to a global L2 norm of {@code maxNorm} when it is larger ({@link
     * GradientClipping}: in the update job when training has one partition, else one extra Spark job per iteration
     * sums the squares of every partition's chunk); under {@link #nonFinite} the guard clips instead, in the same
     * places. 0 turns clipping off.
     */
    public DistributedTraining clipGradientNorm(double maxNorm) {
        if (!(maxNorm >= 0) || Double.isInfinite(maxNorm)) {
            throw new IllegalArgumentException("gradient clipping norm must be finite and >= 0, got " + maxNorm);
        }
        this.clipNorm = maxNorm;
        return this;
    }

    /**
     * Guards every iteration against a non-finite loss or averaged gradient ({@link NonFiniteGuard}): stop before the
     * poisoned update ({@link NonFiniteTrainingException} from {@link #trainUntil} and {@link #optimize}), or skip
     * the step on every replica alike. The guard also does the gradient clipping; with one partition (local mode)
     * both happen inside the update job, with no Spark job of their own. Needs sparkvit's optimisation
     * methods ({@link FloatOptimMethod}); with {@link GradientAccumulation} a non-finite micro-batch drops its group's
     * step.
     */
    public DistributedTraining nonFinite(NonFinitePolicy policy) {
        if (optimizer != null) {
            throw new IllegalStateException("the non-finite policy must be set before the first segment");
        }
        this.nonFinite = Objects.requireNonNull(policy, "policy");
        return this;
    }

    /**
     * Told about every skipped step, on the driver, in order: before the next iteration's update job, or when the
     * segment ends (with several partitions before the skipped iteration's own update job; with one, that job
     * decides and its skip comes back with it).
     */
    public DistributedTraining onSkippedStep(java.util.function.Consumer<NonFiniteStep> listener) {
        this.onSkippedStep = Objects.requireNonNull(listener, "listener");
        return this;
    }

    /** The iterations (0-based) skipped as non-finite so far in the run, including those before a resume. */
    public List<Long> skippedIterations() {
        return List.copyOf(skippedIterations);
    }

    /** Runs {@code processor} on every partition's chunk before the optimisation methods step. */
    public DistributedTraining parameterProcessor(ParameterProcessor processor) {
        processors.add(Objects.requireNonNull(processor, "processor"));
        return this;
    }

    public DistributedTraining endWhen(Trigger trigger) {
        this.endWhen = Objects.requireNonNull(trigger, "endWhen");
        return this;
    }

    /**
     * Writes TensorBoard event files under {@code dir/appName/train}. The folder must not hold events yet: DLlib reads
     * back every event file in it, so a second run there would mix its losses with the first one's.
     *
     * @throws IllegalArgumentException when {@code dir/appName/train} already holds event files
     */
    public DistributedTraining summary(Path dir, String appName) {
        return summary(dir, appName, false);
    }

    /**
     * Like {@link #summary(Path, String)}; with {@code continuing} (a resumed run) the folder may hold the events of
     * the run being continued, and the loss history then includes them.
     */
    public DistributedTraining summary(Path dir, String appName, boolean continuing) {
        Path train = dir.resolve(appName).resolve("train");
        this.summaryFolder = train;
        if (continuing) {
            waitForAFreshEventFileName(train);
            this.summary = new TrainSummary(dir.toString(), appName);
            return this;
        }
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.exists(train)
                ? java.nio.file.Files.list(train) : java.util.stream.Stream.empty()) {
            if (files.anyMatch(f -> f.getFileName().toString().contains("tfevents"))) {
                throw new IllegalArgumentException("TensorBoard folder " + train + " already holds a run's events; "
                        + "use a new run name");
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot list " + train, e);
        }
        this.summary = new TrainSummary(dir.toString(), appName);
        return this;
    }

    /** {@link EventFileNames#waitForAFreshName}. */
    public static void waitForAFreshEventFileName(Path folder) {
        EventFileNames.waitForAFreshName(folder);
    }

    /**
     * How weights and gradients travel between DistriOptimizer's partitions and replicas: {@code "none"} (exact
     * float32, sparkvit's default) or {@code "fp16"} (DLlib's default: each float truncated to its top 16 bits,
     * a bfloat16 truncation, halving the bytes at the price of computing every forward and backward pass on
     * rounded weights; docs/ENGINE.md).
     */
    public DistributedTraining compression(String type) {
        if (!type.equals("none") && !type.equals("fp16")) {
            throw new IllegalArgumentException("compression '" + type + "' is unknown: expected none or fp16");
        }
        this.compression = type;
        return this;
    }

    /** Total model replicas DistriOptimizer trains: executors x replicas per executor. */
    public static int replicaCount() {
        return BigDlEngine.nodeNumber() * BigDlEngine.coreNumber();
    }

    /**
     * Trains until the end trigger fires and returns the trained model (the same object passed in, with the
     * trained weights copied back).
     *
     * @throws IllegalArgumentException when the batch size is not a positive multiple of the replica count
     */
    public AbstractModule<Activity, Activity, Float> optimize() {
        Optimizer<Float, MiniBatch<Float>> built = optimizer();
        built.setEndWhen(endWhen);
        return run(built);
    }

    /** One {@code optimize()} of DLlib's optimizer; a guard's stop comes out as itself, not wrapped by DLlib. */
    private AbstractModule<Activity, Activity, Float> run(Optimizer<Float, MiniBatch<Float>> built) {
        if (stoppedBy != null) {
            throw new IllegalStateException("training stopped at a non-finite iteration and cannot continue in this "
                    + "process: " + stoppedBy.getMessage());
        }
        try {
            return built.optimize();
        } catch (Exception e) {
            // DistriOptimizer rethrows anything from its loop as an InvalidOperationException (checked in Java terms)
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                if (cause instanceof NonFiniteTrainingException stop) {
                    stoppedBy = stop;
                    releaseSegmentCaches(built);
                    throw stop;
                }
            }
            throw e;
        } finally {
            reportSkips();
        }
    }

    /** The steps the guard skipped in the last update jobs reach {@link #skippedIterations} and the listener. */
    private void reportSkips() {
        if (guard != null) {
            guard.reportSkipsFromUpdateJob();
        }
    }

    /**
     * Trains until {@code iterations} iterations have been taken in total: one segment. Segments continue where the
     * previous one (or the {@linkplain #resume resumed} checkpoint) stopped, reading the data an uninterrupted run
     * would read.
     */
    public AbstractModule<Activity, Activity, Float> trainUntil(long iterations) {
        Optimizer<Float, MiniBatch<Float>> built = optimizer();
        Progress now = progress();
        if (iterations <= now.iterations()) {
            throw new IllegalArgumentException("training already took " + now.iterations() + " iterations; cannot "
                    + "train until iteration " + iterations);
        }
        if (epochSamples != null) {
            epochSamples.startAt(now.epoch(), now.recordsInEpoch());
        }
        built.setEndWhen(Triggers.maxIteration(Math.toIntExact(iterations)));
        AbstractModule<Activity, Activity, Float> trained = run(built);
        releaseSegmentCaches(built);
        return trained;
    }

    /**
     * Frees what a segment leaves cached. With {@code reserveOptim}, DLlib's {@code optimize()} replaces its cached
     * "Thread Model RDD" (every replica with its activation buffers) by a zip with the previous methods and then
     * unpersists only the zip; the replicas stay cached, and stay reachable through the lineage of the next
     * {@code previousOptim}, so Spark's cleaner never frees them either: about 90 MB per segment for
     * vit_nano_patch4_32 at batch 64, and a 6 GB heap ran out after 60 segments (docs/ENGINE.md). The previous
     * segment's methods RDD is unpersisted too; the current one is kept for the next segment.
     */
    private void releaseSegmentCaches(Optimizer<Float, MiniBatch<Float>> built) {
        org.apache.spark.SparkContext sc = sparkContext();
        for (RDD<?> rdd : JavaConverters.mapAsJavaMap(sc.getPersistentRDDs()).values()) {
            if ("Thread Model RDD".equals(rdd.name())) {
                rdd.unpersist(true);
            }
        }
        if (built instanceof DistriOptimizer<?> distributed) {
            RDD<?> current = distributed.previousOptim();
            if (lastMethodsRdd != null && lastMethodsRdd != current) {
                lastMethodsRdd.unpersist(true);
                if (restored != null && lastMethodsRdd == restored.rdd()) {
                    // the executors' copies only: later methods RDDs keep this one (and its broadcast) in their lineage
                    restored.source().unpersist();
                    restored = null;
                }
            }
            lastMethodsRdd = current;
        }
        // the segment's AllReduceParameter blocks: never freed by DLlib, and the next segment builds new ones
        ParameterBlocks.release(built.dataset().toDistributed().originRDD());
    }

    /** Iterations, epoch and records so far, as the driver's optimisation methods count them. */
    public Progress progress() {
        Table state = driverMethods().values().iterator().next().state();
        if (!state.contains("neval")) {
            return new Progress(0, 0, 0);
        }
        return new Progress(((Number) state.apply("neval")).longValue() - 1,
                ((Number) state.apply("epoch")).intValue() - 1,
                ((Number) state.apply("recordsProcessedThisEpoch")).longValue());
    }

    /**
     * The optimisation methods of every partition after the last segment, in partition order: the methods that
     * actually stepped, holding the moments of their partition's slice (the driver's own instances never step).
     */
    public List<Map<String, OptimMethod<Float>>> partitionMethods() {
        if (!(optimizer instanceof DistriOptimizer<?>)) {
            throw new IllegalStateException("no segment has been trained yet");
        }
        @SuppressWarnings("unchecked")
        RDD<scala.collection.immutable.Map<String, OptimMethod<Float>>> previous =
                ((DistriOptimizer<Float>) optimizer).previousOptim();
        List<Map<String, OptimMethod<Float>>> result = new ArrayList<>();
        for (scala.collection.immutable.Map<String, OptimMethod<Float>> methods : previous.toJavaRDD().collect()) {
            result.add(new LinkedHashMap<>(JavaConverters.mapAsJavaMap(methods)));
        }
        return result;
    }

    /**
     * Continues from a checkpoint: the counters go into the driver's optimisation methods (DistriOptimizer reads
     * them when it starts) and {@code partitionMethods} (one map per partition, restored by the caller) replace the
     * fresh per-partition copies DLlib would make. Call before the first segment.
     */
    public DistributedTraining resume(Progress progress, List<Map<String, OptimMethod<Float>>> partitionMethods) {
        if (optimizer != null) {
            throw new IllegalStateException("resume must come before the first segment");
        }
        int partitions = epochSamples != null ? epochSamples.originRDD().getNumPartitions()
                : samples.getNumPartitions();
        if (partitionMethods.size() != partitions) {
            throw new IllegalArgumentException("resume needs one set of optimisation methods per partition: got "
                    + partitionMethods.size() + " for " + partitions + " partitions");
        }
        for (OptimMethod<Float> method : driverMethods().values()) {
            Table state = method.state();
            state.update("neval", Math.toIntExact(progress.iterations() + 1));
            state.update("epoch", progress.epoch() + 1);
            state.update("recordsProcessedThisEpoch", Math.toIntExact(progress.recordsInEpoch()));
        }
        this.restoredPartitionMethods = List.copyOf(partitionMethods);
        return this;
    }

    /**
     * As {@link #resume(Progress, List)}, with the iterations the run skipped as non-finite before the checkpoint:
     * they count against the bound of skipped steps, and one in the current accumulation group drops its step.
     */
    public DistributedTraining resume(Progress progress, List<Map<String, OptimMethod<Float>>> partitionMethods,
            List<Long> skipped) {
        resume(progress, partitionMethods);
        for (long iteration : skipped) {
            if (iteration < 0 || iteration >= progress.iterations()) {
                throw new IllegalArgumentException("skipped iteration " + iteration + " is not among the "
                        + progress.iterations() + " iterations of the checkpoint");
            }
        }
        skippedIterations.clear();
        skippedIterations.addAll(skipped);
        return this;
    }

    /**
     * Micro-batches per step of the methods the guard watches: k when all are {@link GradientAccumulation} of k,
     * else 1. The methods must be sparkvit's own, which take the guard's verdicts.
     */
    private int guardedStepEvery() {
        java.util.Set<Integer> steps = new java.util.HashSet<>();
        for (Map.Entry<String, OptimMethod<Float>> method : driverMethods().entrySet()) {
            if (!(method.getValue() instanceof FloatOptimMethod)) {
                throw new IllegalArgumentException("the non-finite guard needs sparkvit's optimisation methods; "
                        + method.getKey() + " has " + method.getValue().getClass().getName());
            }
            steps.add(method.getValue() instanceof GradientAccumulation<?> accumulation ? accumulation.steps() : 1);
        }
        if (steps.size() != 1) {
            throw new IllegalArgumentException("the non-finite guard needs one accumulation for all methods, got "
                    + steps + " micro-batches per step");
        }
        return steps.iterator().next();
    }

    private Map<String, OptimMethod<Float>> driverMethods() {
        return optimMethodsBySubmodule != null ? optimMethodsBySubmodule : Map.of(model.getName(), optimMethod);
    }

    private Optimizer<Float, MiniBatch<Float>> optimizer() {
        if (optimizer != null) {
            return optimizer;
        }
        int replicas = replicaCount();
        if (batchSize <= 0 || batchSize % replicas != 0) {
            throw new IllegalArgumentException("batch size " + batchSize + " is not a positive multiple of the "
                    + replicas + " model replicas (" + BigDlEngine.nodeNumber() + " executors x "
                    + BigDlEngine.coreNumber() + " cores); DistriOptimizer gives each replica an equal slice");
        }
        requireFiniteWeights();
        Optimizer<Float, MiniBatch<Float>> built = samples != null
                ? Optimizer$.MODULE$.apply(model, samples, criterion, batchSize, null, null, FloatTypes.TAG,
                        FloatTypes.NUMERIC)
                : Optimizer$.MODULE$.apply(model, new EpochBatches(epochSamples, batchSize, BigDlEngine.nodeNumber()),
                        criterion, FloatTypes.TAG, FloatTypes.NUMERIC);
        if (nonFinite != null) {
            // the guard clips too (DLlib's clipping lets NaN through), in the place DLlib's processor would take
            guard = new NonFiniteGuard(nonFinite, clipNorm, guardedStepEvery(), skippedIterations,
                    step -> onSkippedStep.accept(step), sparkContext().collectionAccumulator(
                            "sparkvit: non-finite steps skipped in the update job"));
            built.parameterProcessors().$plus$eq(guard);
        } else if (clipNorm > 0) {
            // first, as DLlib's own clipping: the other processors see the clipped gradient
            built.parameterProcessors().$plus$eq(new GradientClipping(clipNorm));
        }
        if (optimMethodsBySubmodule != null) {
            built.setOptimMethods(ScalaCollections.immutableMap(optimMethodsBySubmodule));
        } else {
            built.setOptimMethod(optimMethod);
        }
        for (ParameterProcessor processor : processors) {
            built.parameterProcessors().$plus$eq(processor);
        }
        if (built instanceof DistriOptimizer<?> distributed) {
            distributed.setCompressType(compression);
            distributed.reserveOptim(true);
            if (restoredPartitionMethods != null) {
                @SuppressWarnings("unchecked")
                DistriOptimizer<Float> typed = (DistriOptimizer<Float>) distributed;
                // beside each data partition (RestoredMethods), where DLlib builds that partition's replicas and
                // zips them with this RDD: a partition read from another executor is a deserialised copy, whose steps
                // are lost (seen on the standalone cluster: a resumed run's moments and step counts restarted from
                // the checkpoint's at every iteration of its first segment)
                restored = RestoredMethods.of(built.dataset().toDistributed().originRDD(), restoredPartitionMethods);
                typed.previousOptim_$eq(restored.rdd());
                lastMethodsRdd = restored.rdd();
            }
        }
        if (summary != null) {
            built.setTrainSummary(summary);
        }
        optimizer = built;
        return built;
    }

    /**
     * Training cannot start from NaN or infinite weights, and DLlib's own set-up check (per-submodule methods)
     * compares weight tensors by value, so NaN != NaN fails it with "All subModules should have an OptimMethod".
     */
    private void requireFiniteWeights() {
        Tensor<Float> weights = model.getParameters()._1();
        float[] data = Tensors.data(weights);
        int offset = Tensors.offset(weights);
        int count = 0;
        int first = -1;
        for (int i = 0; i < Tensors.size(weights); i++) {
            if (!Float.isFinite(data[offset + i])) {
                count++;
                first = first < 0 ? i : first;
            }
        }
        if (count > 0) {
            throw new IllegalArgumentException("the model's weights hold " + count + " NaN or infinite values before "
                    + "training (the first, " + data[offset + first] + ", at element " + first + " of the flat "
                    + "parameter buffer); training cannot start from them");
        }
    }

    private org.apache.spark.SparkContext sparkContext() {
        return epochSamples != null ? epochSamples.originRDD().sparkContext() : samples.sparkContext();
    }

    /**
     * Loss of every iteration so far, in order, read back from the TensorBoard event files. When an iteration was
     * logged more than once (a run resumed from a checkpoint older than the crash repeats iterations), the latest
     * record counts.
     */
    public float[] lossHistory() {
        return scalarHistory("Loss");
    }

    /**
     * Every iteration's value of one of DLlib's per-iteration scalars ("Loss", or "Throughput": the iteration's
     * records divided by its wall time on the driver, from fetching the batch to the updated weights), in order; an
     * iteration logged more than once counts with its latest record.
     */
    public float[] scalarHistory(String tag) {
        if (summary == null) {
            throw new IllegalStateException("no summary directory was set: call summary(dir, appName) before optimize()");
        }
        // DLlib's writer thread may still hold the last iterations' events (or be appending one): wait a little for
        // the step of the last completed iteration, then take what is there
        long expected = optimizer == null ? 0 : progress().iterations();
        long deadline = System.nanoTime() + 10_000_000_000L;
        List<EventFileScalars.Scalar> scalars = EventFileScalars.read(summaryFolder, tag);
        while (scalars.stream().mapToLong(EventFileScalars.Scalar::step).max().orElse(0) < expected
                && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            scalars = EventFileScalars.read(summaryFolder, tag);
        }
        java.util.TreeMap<Long, EventFileScalars.Scalar> byStep = new java.util.TreeMap<>();
        for (EventFileScalars.Scalar scalar : scalars) {
            byStep.merge(scalar.step(), scalar, (a, b) -> b.wallTime() >= a.wallTime() ? b : a);
        }
        float[] values = new float[byStep.size()];
        int i = 0;
        for (EventFileScalars.Scalar scalar : byStep.values()) {
            values[i++] = scalar.value();
        }
        return values;
    }

    /** Writes one more TensorBoard scalar beside DLlib's own. */
    public void scalar(String tag, double value, long step) {
        if (summary == null) {
            throw new IllegalStateException("no summary directory was set: call summary(dir, appName) first");
        }
        summary.addScalar(tag, (float) value, step);
    }

    /** Closes the summary writer, flushing its event file. */
    public void close() {
        if (summary != null && !summaryClosed) {
            summary.close();
            summaryClosed = true;
        }
    }

    /**
     * Gives up this training after a failed segment: closes the summary and frees what DLlib left cached (a failed
     * {@code optimize()} neither unpersists its replicas nor the methods RDD), so that a new training (a restart from
     * a checkpoint in the same driver) does not hold two models' caches. The training cannot continue afterwards.
     * The failed segment's parameter blocks stay on the executors that survived (one segment's worth per restart):
     * freeing them needs a Spark job, which would wait for executors that may not come back.
     */
    public void abandon() {
        close();
        org.apache.spark.SparkContext sc = sparkContext();
        for (RDD<?> rdd : JavaConverters.mapAsJavaMap(sc.getPersistentRDDs()).values()) {
            if ("Thread Model RDD".equals(rdd.name())) {
                rdd.unpersist(false);
            }
        }
        if (lastMethodsRdd != null) {
            lastMethodsRdd.unpersist(false);
            lastMethodsRdd = null;
        }
        if (optimizer instanceof DistriOptimizer<?> distributed && distributed.previousOptim() != null) {
            distributed.previousOptim().unpersist(false);
        }
    }
}
