package dev.sparkvit.model.layers;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatModule;
import dev.sparkvit.engine.Tensors;
import java.util.Arrays;

/**
 * Batch normalisation of (rows, dim) features over the rows (Ioffe and Szegedy 2015) with learnable weight and bias,
 * as {@code torch.nn.BatchNorm1d(dim, eps)} in training mode: biased batch variance,
 * {@code y = (x - mean) / sqrt(var + eps) * weight + bias}. It normalises with the batch's own statistics in
 * evaluation mode too and keeps no running estimates: it serves SimCLR's projection head (Chen et al. 2020), which
 * only ever sees training batches and is dropped after pretraining, so the layer holds no state besides its
 * parameters and a checkpoint is the whole model. Under data parallelism each replica normalises its own rows, as
 * unsynchronised BatchNorm does ({@link SyncBatchNorm} normalises over the global batch instead). Sums run in
 * double: the rows are few and a feature's mean can dwarf its spread.
 *
 * <p>The batch the statistics span is {@link #statistics}'s and {@link #gradientSums}'s choice (this class: the
 * input's rows); everything else is shared with {@link SyncBatchNorm}.
 */
public class BatchNorm extends FloatModule {
    private static final long serialVersionUID = 1L;
    /** torch's BatchNorm1d epsilon. */
    public static final double DEFAULT_EPS = 1e-5;

    private final int dim;
    private final double eps;
    private transient double[] mean;
    private transient double[] rstd;
    private transient long count;

    public BatchNorm(int dim) {
        this(dim, DEFAULT_EPS);
    }

    public BatchNorm(int dim, double eps) {
        if (dim <= 0) {
            throw new IllegalArgumentException("BatchNorm dim must be positive, got " + dim);
        }
        if (!(eps > 0)) {
            throw new IllegalArgumentException("BatchNorm eps must be positive, got " + eps);
        }
        this.dim = dim;
        this.eps = eps;
        addParameter("weight", Tensors.zeros(dim), true).fill(1f);
        addParameter("bias", Tensors.zeros(dim), true);
    }

    /** The features per row. */
    protected final int dim() {
        return dim;
    }

    /** The input's rows; refuses anything but (rows, dim) with at least {@code minimum} rows. */
    private int rows(Tensor<Float> x, int minimum) {
        int[] shape = Tensors.shape(x);
        if (shape.length != 2 || shape[1] != dim || shape[0] < minimum) {
            throw new IllegalArgumentException(this + " got input of shape " + Arrays.toString(shape)
                    + "; it takes (rows, " + dim + ") with at least " + minimum + " row" + (minimum == 1 ? "" : "s"));
        }
        return shape[0];
    }

    /** The fewest rows an input may have: 2, a variance needs them (a synchronised batch counts all tasks' rows). */
    protected int minimumRows() {
        return 2;
    }

    /**
     * The batch statistics for {@code rows} rows of {@code dim} floats at {@code xs[xo]}: this class, the rows' own
     * mean and biased variance (two passes in double).
     */
    protected Statistics statistics(float[] xs, int xo, int rows) {
        double[] m = new double[dim];
        double[] var = new double[dim];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < dim; c++) {
                m[c] += xs[xo + r * dim + c];
            }
        }
        for (int c = 0; c < dim; c++) {
            m[c] /= rows;
        }
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < dim; c++) {
                double d = xs[xo + r * dim + c] - m[c];
                var[c] += d * d;
            }
        }
        for (int c = 0; c < dim; c++) {
            var[c] /= rows;
        }
        return new Statistics(m, var, rows);
    }

    /**
     * The per-channel sums backward needs over the batch the statistics spanned, from this input's
     * {@code sumG = sum dy} and {@code sumGXhat = sum dy * xhat}: this class, the local sums as they are.
     */
    protected double[][] gradientSums(double[] sumG, double[] sumGXhat) {
        return new double[][] {sumG, sumGXhat};
    }

    /**
     * Mean and biased variance per channel over {@code count} rows.
     */
    protected record Statistics(double[] mean, double[] variance, long count) {
    }

    @Override
    public Tensor<Float> updateOutput(Tensor<Float> input) {
        int rows = rows(input, minimumRows());
        Tensor<Float> x = Tensors.contiguous(input);
        Tensor<Float> y = outputTensor().resizeAs(x);
        float[] xs = Tensors.data(x);
        float[] ys = Tensors.data(y);
        int xo = Tensors.offset(x);
        int yo = Tensors.offset(y);
        float[] w = Tensors.data(weight(0));
        int wo = Tensors.offset(weight(0));
        float[] b = Tensors.data(weight(1));
        int bo = Tensors.offset(weight(1));
        Statistics stats = statistics(xs, xo, rows);
        if (stats.count() < 2) {
            throw new IllegalArgumentException(this + " normalises a batch of " + stats.count() + " row; it needs at "
                    + "least 2");
        }
        mean = stats.mean();
        count = stats.count();
        rstd = new double[dim];
        for (int c = 0; c < dim; c++) {
            rstd[c] = 1.0 / Math.sqrt(stats.variance()[c] + eps);
        }
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < dim; c++) {
                ys[yo + r * dim + c] = (float) ((xs[xo + r * dim + c] - mean[c]) * rstd[c] * w[wo + c] + b[bo + c]);
            }
        }
        return y;
    }

    @Override
    public Tensor<Float> updateGradInput(Tensor<Float> input, Tensor<Float> gradOutput) {
        int rows = rows(input, 1);
        Tensor<Float> x = Tensors.contiguous(input);
        Tensor<Float> g = Tensors.contiguous(gradOutput);
        Tensor<Float> dx = gradInputTensor().resizeAs(x);
        float[] xs = Tensors.data(x);
        float[] gs = Tensors.data(g);
        float[] ds = Tensors.data(dx);
        int xo = Tensors.offset(x);
        int go = Tensors.offset(g);
        int dof = Tensors.offset(dx);
        float[] w = Tensors.data(weight(0));
        int wo = Tensors.offset(weight(0));
        double[] localG = new double[dim];
        double[] localGXhat = new double[dim];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < dim; c++) {
                double gc = gs[go + r * dim + c];
                localG[c] += gc;
                localGXhat[c] += gc * (xs[xo + r * dim + c] - mean[c]) * rstd[c];
            }
        }
        double[][] sums = gradientSums(localG, localGXhat);
        double[] sumG = sums[0];
        double[] sumGXhat = sums[1];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < dim; c++) {
                double xhat = (xs[xo + r * dim + c] - mean[c]) * rstd[c];
                ds[dof + r * dim + c] = (float) (w[wo + c] * rstd[c]
                        * (gs[go + r * dim + c] - sumG[c] / count - xhat * sumGXhat[c] / count));
            }
        }
        return dx;
    }

    @Override
    public void accGradParameters(Tensor<Float> input, Tensor<Float> gradOutput) {
        float scaleW = (float) getScaleW();
        float scaleB = (float) getScaleB();
        if (scaleW == 0f && scaleB == 0f) {
            return;
        }
        int rows = rows(input, 1);
        Tensor<Float> x = Tensors.contiguous(input);
        Tensor<Float> g = Tensors.contiguous(gradOutput);
        float[] xs = Tensors.data(x);
        float[] gs = Tensors.data(g);
        int xo = Tensors.offset(x);
        int go = Tensors.offset(g);
        float[] gw = Tensors.data(gradient(0));
        int gwo = Tensors.offset(gradient(0));
        float[] gb = Tensors.data(gradient(1));
        int gbo = Tensors.offset(gradient(1));
        // this input's rows only: under data parallelism the gradient exchange sums the tasks' parts
        for (int c = 0; c < dim; c++) {
            double sw = 0;
            double sb = 0;
            for (int r = 0; r < rows; r++) {
                double gc = gs[go + r * dim + c];
                sw += gc * (xs[xo + r * dim + c] - mean[c]) * rstd[c];
                sb += gc;
            }
            gw[gwo + c] += (float) (scaleW * sw);
            gb[gbo + c] += (float) (scaleB * sb);
        }
    }

    @Override
    public String toString() {
        return "BatchNorm(" + dim + ", eps=" + eps + ", batch statistics)";
    }
}
