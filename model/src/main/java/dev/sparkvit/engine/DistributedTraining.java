package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.feature.dataset.AbstractDataSet;
import com.intel.analytics.bigdl.dllib.feature.dataset.MiniBatch;
import com.intel.analytics.bigdl.dllib.feature.dataset.Sample;
import com.intel.analytics.bigdl.dllib.feature.dataset.SampleToMiniBatch;
import com.intel.analytics.bigdl.dllib.feature.dataset.SampleToMiniBatch$;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractCriterion;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.optim.DistriOptimizer;
import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import com.intel.analytics.bigdl.dllib.optim.Optimizer;
import com.intel.analytics.bigdl.dllib.optim.Optimizer$;
import com.intel.analytics.bigdl.dllib.optim.Trigger;
import com.intel.analytics.bigdl.dllib.visualization.TrainSummary;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.apache.spark.rdd.RDD;
import scala.Tuple3;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * Synchronous data-parallel training with DLlib's DistriOptimizer, from Java.
 *
 * <p>DistriOptimizer cuts every mini-batch into one slice per model replica (executors x cores per executor with the
 * default engine) and averages the gradients; the batch size must therefore be a multiple of the replica count,
 * which {@link #optimize()} checks with a clear message before any Spark work starts. The loss of every iteration is
 * written as a TensorBoard scalar ("Loss") under {@code summaryDir/appName/train}.
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
    private String compression = "none";

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
        Path train = dir.resolve(appName).resolve("train");
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
        int replicas = replicaCount();
        if (batchSize <= 0 || batchSize % replicas != 0) {
            throw new IllegalArgumentException("batch size " + batchSize + " is not a positive multiple of the "
                    + replicas + " model replicas (" + BigDlEngine.nodeNumber() + " executors x "
                    + BigDlEngine.coreNumber() + " cores); DistriOptimizer gives each replica an equal slice");
        }
        Optimizer<Float, MiniBatch<Float>> optimizer = samples != null
                ? Optimizer$.MODULE$.apply(model, samples, criterion, batchSize, null, null, FloatTypes.TAG,
                        FloatTypes.NUMERIC)
                : Optimizer$.MODULE$.apply(model, miniBatches(epochSamples, batchSize), criterion, FloatTypes.TAG,
                        FloatTypes.NUMERIC);
        if (optimMethodsBySubmodule != null) {
            optimizer.setOptimMethods(ScalaCollections.immutableMap(optimMethodsBySubmodule));
        } else {
            optimizer.setOptimMethod(optimMethod);
        }
        optimizer.setEndWhen(endWhen);
        if (optimizer instanceof DistriOptimizer<?> distributed) {
            distributed.setCompressType(compression);
        }
        if (summary != null) {
            optimizer.setTrainSummary(summary);
        }
        return optimizer.optimize();
    }

    @SuppressWarnings("unchecked")
    private static AbstractDataSet<MiniBatch<Float>, ?> miniBatches(EpochDataSet<?> samples, int batchSize) {
        SampleToMiniBatch<Float> toBatches = SampleToMiniBatch$.MODULE$.apply(batchSize, scala.Option.empty(),
                scala.Option.empty(), scala.Option.apply((Object) BigDlEngine.nodeNumber()), false, FloatTypes.TAG,
                FloatTypes.NUMERIC);
        ClassTag<MiniBatch<Float>> tag = (ClassTag<MiniBatch<Float>>) (ClassTag<?>) ClassTag$.MODULE$.apply(
                MiniBatch.class);
        return (AbstractDataSet<MiniBatch<Float>, ?>) samples.transform(toBatches, tag);
    }

    /** Loss of every iteration so far, in order, read back from the TensorBoard event files. */
    public float[] lossHistory() {
        if (summary == null) {
            throw new IllegalStateException("no summary directory was set: call summary(dir, appName) before optimize()");
        }
        Tuple3<Object, Object, Object>[] scalars = summary.readScalar("Loss");
        float[] losses = new float[scalars.length];
        for (int i = 0; i < scalars.length; i++) {
            losses[i] = (Float) scalars[i]._2();
        }
        return losses;
    }

    /** Closes the summary writer, flushing its event file. */
    public void close() {
        if (summary != null) {
            summary.close();
        }
    }
}
