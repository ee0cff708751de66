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
 * gradient of its chunk, runs {@code processParameters} and the optimisation methods. {@link #collectGlobalData}
 * runs one job over the cached replicas that aggregates each chunk (the update job then skips its own aggregation,
 * as after DLlib's clipping), sums its squares and reads the replicas' losses. So with clipping on it costs no job
 * that clipping did not already cost; without clipping it is one short job per iteration.
 *
 * <p>The driver then decides, before anything is updated: a finite iteration goes on (clipped when its norm exceeds
 * the bound); a non-finite one throws {@link NonFiniteTrainingException} under {@link NonFinitePolicy#stop()} or
 * once the bound of skipped steps is used up, or else is skipped. The decision travels to every partition in the
 * driver state DLlib ships with the update job, so all partitions and replicas act alike: the methods get a
 * {@link StepVerdict} (a dropped step changes no weight or moment, and moves step counts and schedules on), decoupled
 * weight decay is not applied, and each replica's {@link EmaContainer} leaves out its next fold.
 */
public final class NonFiniteGuard implements ParameterProcessor {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(NonFiniteGuard.class);
    private static final String VERDICT = "sparkvit.nonFinite.verdict";
    private static final String NORM = "sparkvit.nonFinite.gradientNorm";

    private final NonFinitePolicy policy;
    private final double clipNorm;
    private final int stepEvery;
    /** Driver side: iterations skipped so far in the run (0-based), including those of a resumed checkpoint. */
    private final transient List<Long> skipped;
    private final transient Consumer<NonFiniteStep> onSkip;

    /**
     * @param clipNorm global L2 norm to clip a finite gradient to; 0 = no clipping
     * @param stepEvery micro-batches per optimiser step (gradient accumulation; 1 without)
     * @param skipped the run's skipped iterations so far; the guard appends to this list
     * @param onSkip told about every skipped step, on the driver, before the update job runs
     */
    NonFiniteGuard(NonFinitePolicy policy, double clipNorm, int stepEvery, List<Long> skipped,
            Consumer<NonFiniteStep> onSkip) {
        if (!(clipNorm >= 0) || Double.isInfinite(clipNorm) || stepEvery < 1) {
            throw new IllegalArgumentException("the non-finite guard needs a finite clip norm >= 0 and steps of at "
                    + "least 1 micro-batch, got " + clipNorm + " and " + stepEvery);
        }
        this.policy = policy;
        this.clipNorm = clipNorm;
        this.stepEvery = stepEvery;
        this.skipped = skipped;
        this.onSkip = onSkip;
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
        if ((iteration + 1) % stepEvery != 0) {
            return false;
        }
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
            double losses = 0;
            int replicas = 0;
            for (AbstractCriterion<Activity, Activity, T> criterion : cache.localCriterions()) {
                losses += ((Number) criterion.output()).doubleValue();
                replicas++;
            }
            return List.of(new double[] {squares, losses, replicas}).iterator();
        }).reduce((a, b) -> new double[] {a[0] + b[0], a[1] + b[1], a[2] + b[2]});
        state.update("isGradientUpdated", true);

        double norm = Math.sqrt(sums[0]);
        double loss = sums[1] / sums[2];
        long iteration = ((Number) state.apply("neval")).longValue() - 1;
        int epoch = ((Number) state.apply("epoch")).intValue() - 1;
        boolean finite = Double.isFinite(norm) && Double.isFinite(loss);
        if (!finite) {
            if (!policy.skip() || skipped.size() >= policy.maxSkipped()) {
                NonFiniteStep step = new NonFiniteStep(iteration, epoch, loss, norm, skipped.size());
                LOG.error("stopping: non-finite {} at iteration {} (epoch {})", step.describe(), iteration + 1,
                        epoch + 1);
                throw new NonFiniteTrainingException(step, skipped.size());
            }
            skipped.add(iteration);
            NonFiniteStep step = new NonFiniteStep(iteration, epoch, loss, norm, skipped.size());
            LOG.warn("skipping iteration {} (epoch {}): non-finite {}; {} of at most {} skipped", iteration + 1,
                    epoch + 1, step.describe(), skipped.size(), policy.maxSkipped());
            onSkip.accept(step);
        }
        StepVerdict verdict = stepDropped(skipped, iteration, stepEvery) ? StepVerdict.DROP_STEP
                : finite ? StepVerdict.APPLY : StepVerdict.DISCARD_GRADIENT;
        state.update(NORM, norm);
        state.update(VERDICT, verdict.name());
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> void processParameters(AllReduceParameter<T> parameters, DistriOptimizer.Cache<T> cache, Table state,
            TensorNumericMath.TensorNumeric<T> ev) {
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

    @Override
    public <T> void processParameters(AbstractModule<Activity, Activity, T> model, Table state,
            TensorNumericMath.TensorNumeric<T> ev) {
        throw new UnsupportedOperationException("the non-finite guard runs under DistriOptimizer only");
    }
}
