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
 * unsynchronised BatchNorm does. Sums run in double: the rows are few and a feature's mean can dwarf its spread.
 */
public final class BatchNorm extends FloatModule {
    private static final long serialVersionUID = 1L;
    /** torch's BatchNorm1d epsilon. */
    public static final double DEFAULT_EPS = 1e-5;

    private final int dim;
    private final double eps;
    private transient double[] mean;
    private transient double[] rstd;

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

    private int rows(Tensor<Float> x) {
        int[] shape = Tensors.shape(x);
        if (shape.length != 2 || shape[1] != dim || shape[0] < 2) {
            throw new IllegalArgumentException("BatchNorm(dim=" + dim + ") got input of shape "
                    + Arrays.toString(shape) + "; it takes (rows, " + dim + ") with at least 2 rows");
        }
        return shape[0];
    }

    @Override
    public Tensor<Float> updateOutput(Tensor<Float> input) {
        int rows = rows(input);
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
        mean = new double[dim];
        rstd = new double[dim];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < dim; c++) {
                mean[c] += xs[xo + r * dim + c];
            }
        }
        double[] var = new double[dim];
        for (int c = 0; c < dim; c++) {
            mean[c] /= rows;
        }
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < dim; c++) {
                double d = xs[xo + r * dim + c] - mean[c];
                var[c] += d * d;
            }
        }
        for (int c = 0; c < dim; c++) {
            rstd[c] = 1.0 / Math.sqrt(var[c] / rows + eps);
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
        int rows = rows(input);
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
        double[] sumG = new double[dim];
        double[] sumGXhat = new double[dim];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < dim; c++) {
                double gc = gs[go + r * dim + c];
                sumG[c] += gc;
                sumGXhat[c] += gc * (xs[xo + r * dim + c] - mean[c]) * rstd[c];
            }
        }
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < dim; c++) {
                double xhat = (xs[xo + r * dim + c] - mean[c]) * rstd[c];
                ds[dof + r * dim + c] = (float) (w[wo + c] * rstd[c]
                        * (gs[go + r * dim + c] - sumG[c] / rows - xhat * sumGXhat[c] / rows));
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
        int rows = rows(input);
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
