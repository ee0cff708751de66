package dev.sparkvit.model.layers;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.Blas;
import dev.sparkvit.engine.FloatModule;
import dev.sparkvit.engine.Tensors;
import java.util.Arrays;

/**
 * A fully connected layer over the last dimension of an input of any rank, as {@code torch.nn.Linear}:
 * {@code (..., in) -> (..., out)}, {@code y = x W^T + b} with W of shape (out, in). One GEMM over all tokens.
 * Weights start at zero; the model's initialiser sets them.
 */
public final class TokenLinear extends FloatModule {
    private static final long serialVersionUID = 1L;

    private final int inFeatures;
    private final int outFeatures;
    /** Scratch of the bias gradient's column sums. */
    private transient float[][] scratch;

    public TokenLinear(int inFeatures, int outFeatures) {
        if (inFeatures <= 0 || outFeatures <= 0) {
            throw new IllegalArgumentException("TokenLinear sizes must be positive, got " + inFeatures + " -> "
                    + outFeatures);
        }
        Blas.requireMkl();
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        addParameter("weight", Tensors.zeros(outFeatures, inFeatures), false);
        addParameter("bias", Tensors.zeros(outFeatures), true);
    }

    public int inFeatures() {
        return inFeatures;
    }

    public int outFeatures() {
        return outFeatures;
    }

    private int rows(Tensor<Float> x) {
        int[] shape = Tensors.shape(x);
        if (shape.length == 0 || shape[shape.length - 1] != inFeatures) {
            throw new IllegalArgumentException("Linear(" + inFeatures + " -> " + outFeatures + ") got input of shape "
                    + Arrays.toString(shape) + "; its last dimension must be " + inFeatures);
        }
        return Tensors.size(x) / inFeatures;
    }

    @Override
    public Tensor<Float> updateOutput(Tensor<Float> input) {
        int rows = rows(input);
        Tensor<Float> x = Tensors.contiguous(input);
        int[] shape = Tensors.shape(x);
        shape[shape.length - 1] = outFeatures;
        Tensor<Float> y = outputTensor().resize(shape, null);
        float[] ys = Tensors.data(y);
        int yo = Tensors.offset(y);
        float[] b = Tensors.data(weight(1));
        int bo = Tensors.offset(weight(1));
        for (int r = 0; r < rows; r++) {
            System.arraycopy(b, bo, ys, yo + r * outFeatures, outFeatures);
        }
        Blas.gemm(false, true, rows, outFeatures, inFeatures, 1f, Tensors.data(x), Tensors.offset(x), inFeatures,
                Tensors.data(weight(0)), Tensors.offset(weight(0)), inFeatures, 1f, ys, yo, outFeatures);
        return y;
    }

    @Override
    public Tensor<Float> updateGradInput(Tensor<Float> input, Tensor<Float> gradOutput) {
        int rows = rows(input);
        Tensor<Float> g = Tensors.contiguous(gradOutput);
        Tensor<Float> dx = gradInputTensor().resizeAs(input);
        Blas.gemm(false, false, rows, inFeatures, outFeatures, 1f, Tensors.data(g), Tensors.offset(g), outFeatures,
                Tensors.data(weight(0)), Tensors.offset(weight(0)), inFeatures, 0f,
                Tensors.data(dx), Tensors.offset(dx), inFeatures);
        return dx;
    }

    @Override
    public void accGradParameters(Tensor<Float> input, Tensor<Float> gradOutput) {
        int rows = rows(input);
        Tensor<Float> x = Tensors.contiguous(input);
        Tensor<Float> g = Tensors.contiguous(gradOutput);
        float scaleW = (float) getScaleW();
        float scaleB = (float) getScaleB();
        float[] gs = Tensors.data(g);
        int go = Tensors.offset(g);
        if (scaleW != 0f) {
            Blas.gemm(true, false, outFeatures, inFeatures, rows, scaleW, gs, go, outFeatures,
                    Tensors.data(x), Tensors.offset(x), inFeatures, 1f,
                    Tensors.data(gradient(0)), Tensors.offset(gradient(0)), inFeatures);
        }
        if (scaleB != 0f) {
            if (scratch == null) {
                scratch = new float[2][RowChunks.length(outFeatures)];
            }
            RowChunks.addColumnSums(gs, go, rows, outFeatures, scaleB, Tensors.data(gradient(1)),
                    Tensors.offset(gradient(1)), scratch[0], scratch[1]);
        }
    }

    @Override
    public String toString() {
        return "Linear(" + inFeatures + " -> " + outFeatures + ")";
    }
}
