package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractCriterion;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.optim.DistriOptimizer;
import com.intel.analytics.bigdl.dllib.optim.Metrics;
import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import com.intel.analytics.bigdl.dllib.optim.parameters.AllReduceParameter;
import com.intel.analytics.bigdl.dllib.optim.parameters.ParameterProcessor;
import com.intel.analytics.bigdl.dllib.optim.parameters.Util$;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import com.intel.analytics.bigdl.dllib.tensor.TensorNumericMath;
import com.intel.analytics.bigdl.dllib.utils.Table;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;
import org.apache.spark.rdd.RDD;
import org.apache.spark.util.CollectionAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops or skips an iteration whose loss or averaged gradient is not finite, and clips the gradient to a global L2
 * norm, as one DLlib parameter processor (it replaces DLlib's L2NormClippingProcessor, which lets NaN through:
 * {@code NaN > threshold} is false).
 *
 * <p>Where the numbers are (DistriOptimizer v2.4.0): an iteration is a forward/backward job, after which each
 * replica's criterion holds its loss and each partition has put its replicas' summed gradient; then, on the driver,
 * every processor's {@code collectGlobalData}; then the update job, where each partition aggregates the averaged
 * gradient of its chunk, runs {@code processParameters} and the optimisation methods.
 *
 * <p>With several partitions (executors) the decision needs every partition's chunk: {@link #collectGlobalData} runs
 * one job over the cached replicas that aggregates each chunk (the update job then skips its own aggregation, as
 * after DLlib's clipping), sums its squares and reads the replicas' losses, and the driver decides before the update
 * job. The decision travels to every partition in the driver state DLlib ships with the update job, so all
 * partitions and replicas act alike.
 *
 * <p>With one partition (local mode) the update job's only task holds the whole aggregated gradient and every
 * replica, so it decides there, first among the processors, with the same sums and the same rules, and no extra job
 * runs: the driver passes it the run's skip count and whether the current accumulation group already lost a
 * micro-batch. A stop throws {@link NonFiniteTrainingException} from that task before any processor or method
 * changes anything; the update job fails with it (local mode does not retry a task; a one-executor cluster retries
 * it, and each attempt stops the same way), and DistriOptimizer ends before its counters, loss log or summary move
 * on, as when the driver stops. A skip is reported back through an accumulator and reaches the driver's skip list,
 * log and {@code onSkip} listener at the next iteration's {@code collectGlobalData} or when the segment ends
 * ({@link #reportSkipsFromUpdateJob}), before anything reads them.
 *
 * <p>Either way: a finite iteration goes on (clipped when its norm exceeds the bound); a non-finite one stops under
 * {@link NonFinitePolicy#stop()} or once the bound of skipped steps is used up, and is skipped otherwise. The
 * methods get a {@link StepVerdict} (a dropped step changes no weight or moment, and moves step counts and schedules
 * on), decoupled weight decay is not applied, and each replica's {@link EmaContainer} leaves out its next fold.
 */
public final class NonFiniteGuard implements ParameterProcessor {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(NonFiniteGuard.class);
    private static final String VERDICT = "sparkvit.nonFinite.verdict";
    private static final String NORM = "sparkvit.nonFinite.gradientNorm";
    /** Driver state for the update job: decide there (one partition). */
    private static final String IN_UPDATE = "sparkvit.nonFinite.inUpdate";
    /** Driver state for the update job: steps the run has skipped before this iteration. */
    private static final String SKIPPED_BEFORE = "sparkvit.nonFinite.skippedBefore";
    /** Driver state for the update job: an earlier micro-batch of this iteration's accumulation group was skipped. */
    private static final String GROUP_HAS_SKIP = "sparkvit.nonFinite.groupHasSkip";

    private final NonFinitePolicy policy;
    private final double clipNorm;
    private final int stepEvery;
    /** Steps skipped in the update job (one partition), on their way to the driver. */
    private final CollectionAccumulator<NonFiniteStep> skippedInUpdate;
    /** Driver side: iterations skipped so far in the run (0-based), including those of a resumed checkpoint. */
    private final transient List<Long> skipped;
    private final transient Consumer<NonFiniteStep> onSkip;

    /**
     * @param clipNorm global L2 norm to clip a finite gradient to; 0 = no clipping
     * @param stepEvery micro-batches per optimiser step (gradient accumulation; 1 without)
     * @param skipped the run's skipped iterations so far; the guard appends to this list
     * @param onSkip told about every skipped step, on the driver, before the next iteration's update job or the end
     *     of the segment
     * @param skippedInUpdate a fresh accumulator registered with the training's Spark context
     */
    NonFiniteGuard(NonFinitePolicy policy, double clipNorm, int stepEvery, List<Long> skipped,
            Consumer<NonFiniteStep> onSkip, CollectionAccumulator<NonFiniteStep> skippedInUpdate) {
        if (!(clipNorm >= 0) || Double.isInfinite(clipNorm) || stepEvery < 1) {
            throw new IllegalArgumentException("the non-finite guard needs a finite clip norm >= 0 and steps of at "
                    + "least 1 micro-batch, got " + clipNorm + " and " + stepEvery);
        }
        this.policy = policy;
        this.clipNorm = clipNorm;
        this.stepEvery = stepEvery;
        this.skipped = skipped;
        this.onSkip = onSkip;
        this.skippedInUpdate = skippedInUpdate;
    }

    /** The verdict on the current iteration in DLlib's driver state; APPLY when no guard runs. */
    static StepVerdict verdict(Table state) {
        Object verdict = state.contains(VERDICT) ? state.apply(VERDICT) : null;
        return verdict == null ? StepVerdict.APPLY : StepVerdict.valueOf((String) verdict);
    }

    /**
     * Whether the step that ends at 0-based iteration {@code iteration} is dropped, given the skipped iterations:
     * it is a group's last micro-batch and some micro-batch of that group was skipped.
     */
    public static boolean stepDropped(List<Long> skipped, long iteration, int stepEvery) {
        return (iteration + 1) % stepEvery == 0 && groupHasSkip(skipped, iteration, stepEvery);
    }

    static boolean groupHasSkip(List<Long> skipped, long iteration, int stepEvery) {
        long group = iteration / stepEvery;
        for (long s : skipped) {
            if (s / stepEvery == group) {
                return true;
            }
        }
        return false;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> void collectGlobalData(RDD<DistriOptimizer.Cache<T>> models, AllReduceParameter<T> parameters,
            Metrics metrics, Table state, TensorNumericMath.TensorNumeric<T> ev) {
        reportSkipsFromUpdateJob();
        long iteration = ((Number) state.apply("neval")).longValue() - 1;
        if (models.getNumPartitions() == 1) {
            state.update(IN_UPDATE, true);
            state.update(SKIPPED_BEFORE, skipped.size());
            state.update(GROUP_HAS_SKIP, groupHasSkip(skipped, iteration, stepEvery));
            return;
        }
        state.update(IN_UPDATE, false);
        int finished = ((Number) state.apply("numFinishedModel")).intValue();
        int parallelism = ((Number) state.apply("parallelism")).intValue();
        boolean aggregated = (Boolean) state.apply("isGradientUpdated");
        double[] sums = models.toJavaRDD().mapPartitions((Iterator<DistriOptimizer.Cache<T>> it) -> {
            DistriOptimizer.Cache<T> cache = it.next();
            if (!aggregated) {
                parameters.aggregateGradientPartition(finished);
            }
            // the same sum of squares as DLlib's clipping, so clipped runs keep their exact numbers
            double squares = Util$.MODULE$.getSumsquareInParallel(parameters.gradientPartition(), parallelism, ev);
            double[] losses = replicaLosses(cache);
            return List.of(new double[] {squares, losses[0], losses[1]}).iterator();
        }).reduce((a, b) -> new double[] {a[0] + b[0], a[1] + b[1], a[2] + b[2]});
        state.update("isGradientUpdated", true);

        double norm = Math.sqrt(sums[0]);
        NonFiniteStep seen = new NonFiniteStep(iteration, ((Number) state.apply("epoch")).intValue() - 1,
                sums[1] / sums[2], norm, skipped.size());
        StepVerdict verdict = decide(seen, groupHasSkip(skipped, iteration, stepEvery));
        if (!finite(seen)) {
            skipped(counted(seen));
        }
        state.update(NORM, norm);
        state.update(VERDICT, verdict.name());
    }

    /** Sum of the replicas' losses (their criteria's outputs after the forward job) and the replica count. */
    private static <T> double[] replicaLosses(DistriOptimizer.Cache<T> cache) {
        double losses = 0;
        int replicas = 0;
        for (AbstractCriterion<Activity, Activity, T> criterion : cache.localCriterions()) {
            losses += ((Number) criterion.output()).doubleValue();
            replicas++;
        }
        return new double[] {losses, replicas};
    }

    /**
     * The rules, wherever they run: a finite iteration applies, unless it ends a group that lost a micro-batch; a
     * non-finite one stops (throws) when the policy stops or the bound is used up, else is skipped: its gradient
     * discarded, and its group's step dropped at the group's end.
     *
     * @param seen the iteration, its {@code skippedSoFar} the run's skips before it (as a stop reports it)
     * @param groupHasSkip whether an earlier micro-batch of its accumulation group was skipped
     */
    private StepVerdict decide(NonFiniteStep seen, boolean groupHasSkip) {
        return decide(policy, stepEvery, seen, groupHasSkip);
    }

    /** {@link #decide(NonFiniteStep, boolean)} for any loop (also {@link BarrierSegment}'s tasks). */
    static StepVerdict decide(NonFinitePolicy policy, int stepEvery, NonFiniteStep seen, boolean groupHasSkip) {
        boolean groupEnd = (seen.iteration() + 1) % stepEvery == 0;
        if (finite(seen)) {
            return groupEnd && groupHasSkip ? StepVerdict.DROP_STEP : StepVerdict.APPLY;
        }
        if (!policy.skip() || seen.skippedSoFar() >= policy.maxSkipped()) {
            LOG.error("stopping: non-finite {} at iteration {} (epoch {})", seen.describe(), seen.iteration() + 1,
                    seen.epoch() + 1);
            throw new NonFiniteTrainingException(seen, seen.skippedSoFar());
        }
        return groupEnd ? StepVerdict.DROP_STEP : StepVerdict.DISCARD_GRADIENT;
    }

    static boolean finite(NonFiniteStep step) {
        return Double.isFinite(step.loss()) && Double.isFinite(step.gradientNorm());
    }

    /** The step as skipped: counted among the run's skipped steps. */
    private static NonFiniteStep counted(NonFiniteStep seen) {
        return new NonFiniteStep(seen.iteration(), seen.epoch(), seen.loss(), seen.gradientNorm(),
                seen.skippedSoFar() + 1);
    }

    /** Driver side: records a skipped step, logs it and tells the listener. */
    private void skipped(NonFiniteStep step) {
        if (step.skippedSoFar() != skipped.size() + 1) {
            throw new IllegalStateException("skipped step " + step.describe() + " at iteration "
                    + (step.iteration() + 1) + " counted " + step.skippedSoFar() + " skips, the driver "
                    + (skipped.size() + 1));
        }
        skipped.add(step.iteration());
        LOG.warn("skipping iteration {} (epoch {}): non-finite {}; {} of at most {} skipped", step.iteration() + 1,
                step.epoch() + 1, step.describe(), step.skippedSoFar(), policy.maxSkipped());
        onSkip.accept(step);
    }

    /**
     * Driver side: brings home the steps the update job skipped (one partition) since the last call, in order. Runs
     * at every iteration's {@code collectGlobalData} and must run when a segment ends, before anyone reads the skip
     * list ({@link DistributedTraining} does).
     */
    void reportSkipsFromUpdateJob() {
        List<NonFiniteStep> steps = List.copyOf(skippedInUpdate.value());
        skippedInUpdate.reset();
        steps.stream().sorted(java.util.Comparator.comparingLong(NonFiniteStep::iteration)).forEach(this::skipped);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> void processParameters(AllReduceParameter<T> parameters, DistriOptimizer.Cache<T> cache, Table state,
            TensorNumericMath.TensorNumeric<T> ev) {
        if (state.contains(IN_UPDATE) && (Boolean) state.apply(IN_UPDATE)) {
            decideInUpdateJob(parameters, cache, state, ev);
        }
        StepVerdict verdict = verdict(state);
        if (verdict == StepVerdict.APPLY && clipNorm > 0) {
            double norm = (Double) state.apply(NORM);
            if (norm > clipNorm) {
                // DLlib's clipping, to the bit: divide by the float of norm / bound
                ((Tensor<Float>) (Tensor<?>) parameters.gradientPartition()).div((float) (norm / clipNorm));
            }
        }
        scala.collection.Iterator<OptimMethod<T>> methods = cache.optimMethods().valuesIterator();
        while (methods.hasNext()) {
            ((FloatOptimMethod) (OptimMethod<?>) methods.next()).verdict(verdict);
        }
        if (verdict == StepVerdict.DROP_STEP) {
            for (AbstractModule<Activity, Activity, T> replica : cache.localModels()) {
                EmaContainer.skipNextFoldIn(replica);
            }
        }
    }

    /**
     * In the update job's only task, which DLlib has just given the whole aggregated gradient: the sums of the
     * guard's job, taken here, and the decision. Writes the norm and verdict into this task's copy of the driver
     * state, where the later processors read them; throws to stop.
     */
    private <T> void decideInUpdateJob(AllReduceParameter<T> parameters, DistriOptimizer.Cache<T> cache, Table state,
            TensorNumericMath.TensorNumeric<T> ev) {
        int parallelism = ((Number) state.apply("parallelism")).intValue();
        // the function and parallelism of the guard's job and of DLlib's clipping, over the same buffer: the same bits
        double norm = Math.sqrt(Util$.MODULE$.getSumsquareInParallel(parameters.gradientPartition(), parallelism, ev));
        double[] losses = replicaLosses(cache);
        NonFiniteStep seen = new NonFiniteStep(((Number) state.apply("neval")).longValue() - 1,
                ((Number) state.apply("epoch")).intValue() - 1, losses[0] / losses[1], norm,
                ((Number) state.apply(SKIPPED_BEFORE)).intValue());
        StepVerdict verdict = decide(seen, (Boolean) state.apply(GROUP_HAS_SKIP));
        if (!finite(seen)) {
            skippedInUpdate.add(counted(seen));
        }
        state.update(NORM, norm);
        state.update(VERDICT, verdict.name());
    }

    @Override
    public <T> void processParameters(AbstractModule<Activity, Activity, T> model, Table state,
            TensorNumericMath.TensorNumeric<T> ev) {
        throw new UnsupportedOperationException("the non-finite guard runs under DistriOptimizer only");
    }
}
