package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.optim.DistriOptimizer;
import com.intel.analytics.bigdl.dllib.optim.Metrics;
import com.intel.analytics.bigdl.dllib.optim.parameters.AllReduceParameter;
import com.intel.analytics.bigdl.dllib.optim.parameters.ParameterProcessor;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import com.intel.analytics.bigdl.dllib.tensor.TensorNumericMath;
import com.intel.analytics.bigdl.dllib.utils.Table;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.rdd.RDD;

/**
 * LARS (You, Gitman and Ginsburg 2017; the SimCLR recipe) as a DLlib parameter processor, in front of SGD with
 * momentum: for every adapted parameter tensor (weights; biases, norms, embeddings and gammas are left alone, as in
 * SimCLR) the gradient becomes {@code trust * (g + wd * w)} with {@code trust = eta * |w| / |g + wd * w|}; other
 * tensors keep their plain gradient and get no decay. The norms are per tensor over the whole model, while a tensor
 * may span several partitions' chunks: an extra Spark job per iteration sums {@code w.w}, {@code g.g} and
 * {@code w.g} of each tensor's piece on every partition (after gradient aggregation, as DLlib's L2-norm clipping
 * does), and the update job scales each piece with the global numbers.
 */
public final class LarsAdaptation implements ParameterProcessor {
    private static final long serialVersionUID = 1L;
    private static final String SUMS = "sparkvit.lars.sums";

    private final double eta;
    private final double weightDecay;
    private final DecoupledWeightDecay.Range[] tensors;

    /**
     * @param eta trust coefficient (SimCLR: 0.001)
     * @param weightDecay coupled weight decay of the adapted tensors
     * @param tensors the adapted tensors' ranges of the flat buffer (their rates are not used)
     */
    public LarsAdaptation(double eta, double weightDecay, List<DecoupledWeightDecay.Range> tensors) {
        if (!(eta > 0) || !(weightDecay >= 0)) {
            throw new IllegalArgumentException("LARS needs eta > 0 and weight decay >= 0, got " + eta + " and "
                    + weightDecay);
        }
        this.eta = eta;
        this.weightDecay = weightDecay;
        this.tensors = tensors.toArray(new DecoupledWeightDecay.Range[0]);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> void collectGlobalData(RDD<DistriOptimizer.Cache<T>> models, AllReduceParameter<T> parameters,
            Metrics metrics, Table state, TensorNumericMath.TensorNumeric<T> ev) {
        int finished = ((Number) state.apply("numFinishedModel")).intValue();
        boolean aggregated = (Boolean) state.apply("isGradientUpdated");
        DecoupledWeightDecay.Range[] ranges = tensors;
        JavaRDD<double[]> partial = models.toJavaRDD().mapPartitions((Iterator<DistriOptimizer.Cache<T>> it) -> {
            if (!aggregated) {
                parameters.aggregateGradientPartition(finished);
            }
            int start = (Integer) parameters.localPartitionRange()._1() - 1;
            return List.of(sums((Tensor<Float>) (Tensor<?>) parameters.weightPartition(),
                    (Tensor<Float>) (Tensor<?>) parameters.gradientPartition(), start, ranges)).iterator();
        });
        double[] total = partial.reduce((a, b) -> {
            double[] c = new double[a.length];
            for (int i = 0; i < a.length; i++) {
                c[i] = a[i] + b[i];
            }
            return c;
        });
        state.update("isGradientUpdated", true);
        state.update(SUMS, total);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> void processParameters(AllReduceParameter<T> parameters, DistriOptimizer.Cache<T> cache, Table state,
            TensorNumericMath.TensorNumeric<T> ev) {
        int start = (Integer) parameters.localPartitionRange()._1() - 1;
        adapt((Tensor<Float>) (Tensor<?>) parameters.weightPartition(),
                (Tensor<Float>) (Tensor<?>) parameters.gradientPartition(), start, (double[]) state.apply(SUMS));
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> void processParameters(AbstractModule<Activity, Activity, T> model, Table state,
            TensorNumericMath.TensorNumeric<T> ev) {
        adaptWhole((Tensor<Float>) (Tensor<?>) model.getParameters()._1(),
                (Tensor<Float>) (Tensor<?>) model.getParameters()._2());
    }

    /**
     * LARS on a replica holding the whole flat buffer and the whole (exchanged) gradient, as in a
     * {@link BarrierSegment} task: every tensor's norms from its own elements, no extra exchange.
     */
    public void adaptWhole(Tensor<Float> weights, Tensor<Float> gradients) {
        adapt(weights, gradients, 0, sums(weights, gradients, 0, tensors));
    }

    /** Per tensor: sum of w*w, g*g and w*g over the part of it inside this chunk. */
    static double[] sums(Tensor<Float> weights, Tensor<Float> gradients, int chunkStart,
            DecoupledWeightDecay.Range[] ranges) {
        double[] out = new double[3 * ranges.length];
        float[] w = Tensors.data(weights);
        float[] g = Tensors.data(gradients);
        int wo = Tensors.offset(weights);
        int go = Tensors.offset(gradients);
        int chunkEnd = chunkStart + Tensors.size(weights);
        for (int r = 0; r < ranges.length; r++) {
            int from = Math.max(chunkStart, ranges[r].start());
            int to = Math.min(chunkEnd, ranges[r].start() + ranges[r].length());
            for (int i = from; i < to; i++) {
                double wi = w[wo + i - chunkStart];
                double gi = g[go + i - chunkStart];
                out[3 * r] += wi * wi;
                out[3 * r + 1] += gi * gi;
                out[3 * r + 2] += wi * gi;
            }
        }
        return out;
    }

    /** Replaces the gradient of each adapted tensor's piece by {@code trust * (g + wd * w)}. */
    void adapt(Tensor<Float> weights, Tensor<Float> gradients, int chunkStart, double[] sums) {
        float[] w = Tensors.data(weights);
        float[] g = Tensors.data(gradients);
        int wo = Tensors.offset(weights);
        int go = Tensors.offset(gradients);
        int chunkEnd = chunkStart + Tensors.size(weights);
        for (int r = 0; r < tensors.length; r++) {
            int from = Math.max(chunkStart, tensors[r].start());
            int to = Math.min(chunkEnd, tensors[r].start() + tensors[r].length());
            if (from >= to) {
                continue;
            }
            double ww = sums[3 * r];
            double gg = sums[3 * r + 1];
            double wg = sums[3 * r + 2];
            double weightNorm = Math.sqrt(ww);
            double updateNorm = Math.sqrt(Math.max(0, gg + 2 * weightDecay * wg + weightDecay * weightDecay * ww));
            float trust = (float) (weightNorm > 0 && updateNorm > 0 ? eta * weightNorm / updateNorm : 1.0);
            float wd = (float) weightDecay;
            for (int i = from; i < to; i++) {
                g[go + i - chunkStart] = trust * (g[go + i - chunkStart] + wd * w[wo + i - chunkStart]);
            }
        }
    }
}
