package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.optim.DistriOptimizer;
import com.intel.analytics.bigdl.dllib.optim.Metrics;
import com.intel.analytics.bigdl.dllib.optim.parameters.AllReduceParameter;
import com.intel.analytics.bigdl.dllib.optim.parameters.L2NormClippingProcessor;
import com.intel.analytics.bigdl.dllib.optim.parameters.ParameterProcessor;
import com.intel.analytics.bigdl.dllib.optim.parameters.Util$;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import com.intel.analytics.bigdl.dllib.tensor.TensorNumericMath;
import com.intel.analytics.bigdl.dllib.utils.Table;
import org.apache.spark.rdd.RDD;

/**
 * Global L2-norm gradient clipping that costs no Spark job when the whole gradient is in one partition.
 *
 * <p>DLlib's {@link L2NormClippingProcessor} runs one extra Spark job per iteration: every partition aggregates its
 * chunk of the gradient and sums its squares, the driver adds the sums, and the update job scales each chunk. With
 * one partition (local mode: one node) the update job holds the whole aggregated gradient anyway, so here it takes
 * the norm itself, with the same function DLlib's job uses ({@code Util.getSumsquareInParallel} over the partition's
 * gradient with the replica count as parallelism) and the same division, so the steps are bit-identical. With several
 * partitions (executors) it is DLlib's processor: the norm needs every partition's aggregated chunk.
 */
public final class GradientClipping implements ParameterProcessor {
    private static final long serialVersionUID = 1L;
    /** Set in the driver state when the update job takes the norm itself. */
    static final String IN_UPDATE = "sparkvit.clipping.inUpdate";

    private final double maxNorm;
    private final L2NormClippingProcessor acrossPartitions;

    /** @param maxNorm the gradient's largest global L2 norm, above 0 */
    public GradientClipping(double maxNorm) {
        if (!(maxNorm > 0) || Double.isInfinite(maxNorm)) {
            throw new IllegalArgumentException("gradient clipping norm must be finite and > 0, got " + maxNorm);
        }
        this.maxNorm = maxNorm;
        this.acrossPartitions = new L2NormClippingProcessor(maxNorm);
    }

    public double maxNorm() {
        return maxNorm;
    }

    @Override
    public <T> void collectGlobalData(RDD<DistriOptimizer.Cache<T>> models, AllReduceParameter<T> parameters,
            Metrics metrics, Table state, TensorNumericMath.TensorNumeric<T> ev) {
        boolean onePartition = models.getNumPartitions() == 1;
        state.update(IN_UPDATE, onePartition);
        if (!onePartition) {
            acrossPartitions.collectGlobalData(models, parameters, metrics, state, ev);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> void processParameters(AllReduceParameter<T> parameters, DistriOptimizer.Cache<T> cache, Table state,
            TensorNumericMath.TensorNumeric<T> ev) {
        if (!(Boolean) state.apply(IN_UPDATE)) {
            acrossPartitions.processParameters(parameters, cache, state, ev);
            return;
        }
        // the update job aggregated this (only) partition's gradient before the processors run
        Tensor<Float> gradient = (Tensor<Float>) (Tensor<?>) parameters.gradientPartition();
        int parallelism = ((Number) state.apply("parallelism")).intValue();
        double norm = Math.sqrt(Util$.MODULE$.getSumsquareInParallel(gradient, parallelism, FloatTypes.NUMERIC));
        if (norm > maxNorm) {
            gradient.div((float) (norm / maxNorm));
        }
    }

    @Override
    public <T> void processParameters(AbstractModule<Activity, Activity, T> model, Table state,
            TensorNumericMath.TensorNumeric<T> ev) {
        acrossPartitions.processParameters(model, state, ev);
    }
}
