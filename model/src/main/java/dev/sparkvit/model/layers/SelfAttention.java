package dev.sparkvit.model.layers;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.Blas;
import dev.sparkvit.engine.FloatModule;
import dev.sparkvit.engine.Tensors;
import java.util.Arrays;

/**
 * The parameter-free core of multi-head self-attention (Vaswani et al. 2017) as in timm's {@code Attention}: takes
 * the fused projection {@code qkv} of shape (B, T, 3C), laid out as (3, heads, headDim) in the last dimension, and
 * returns {@code softmax(q k^T / sqrt(headDim)) v} of shape (B, T, C) with heads concatenated. The softmax runs over
 * the keys (DLlib's own Attention normalises over heads: docs/ENGINE.md, defect 2). Per (batch, head) the three
 * products are GEMMs reading q, k and v in place through their row stride.
 */
public final class SelfAttention extends FloatModule {
    private static final long serialVersionUID = 1L;

    private final int dim;
    private final int numHeads;
    private final int headDim;
    private final float scale;
    /** Attention probabilities of the last forward, (B, heads, T, T). */
    private transient float[] probabilities;
    private transient float[] scratch;
    private transient float[] headProbabilities;

    public SelfAttention(int dim, int numHeads) {
        if (numHeads <= 0 || dim <= 0 || dim % numHeads != 0) {
            throw new IllegalArgumentException("attention dim " + dim + " must be a positive multiple of the "
                    + numHeads + " heads");
        }
        Blas.requireMkl();
        this.dim = dim;
        this.numHeads = numHeads;
        this.headDim = dim / numHeads;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
    }

    public int numHeads() {
        return numHeads;
    }

    private int[] batchAndTokens(Tensor<Float> qkv) {
        int[] shape = Tensors.shape(qkv);
        if (shape.length != 3 || shape[2] != 3 * dim) {
            throw new IllegalArgumentException("attention over dim " + dim + " expects fused qkv of shape (B, T, "
                    + 3 * dim + "), got " + Arrays.toString(shape));
        }
        return new int[] {shape[0], shape[1]};
    }

    @Override
    public Tensor<Float> updateOutput(Tensor<Float> input) {
        int[] bt = batchAndTokens(input);
        int batch = bt[0];
        int tokens = bt[1];
        Tensor<Float> qkv = Tensors.contiguous(input);
        Tensor<Float> y = outputTensor().resize(batch, tokens, dim);
        int tt = tokens * tokens;
        int needed = batch * numHeads * tt;
        if (probabilities == null || probabilities.length < needed) {
            probabilities = new float[needed];
        }
        float[] in = Tensors.data(qkv);
        int io = Tensors.offset(qkv);
        float[] out = Tensors.data(y);
        int oo = Tensors.offset(y);
        int ld = 3 * dim;
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < numHeads; h++) {
                int q = io + b * tokens * ld + h * headDim;
                int k = q + dim;
                int v = q + 2 * dim;
                int p = (b * numHeads + h) * tt;
                Blas.gemm(false, true, tokens, tokens, headDim, scale, in, q, ld, in, k, ld, 0f,
                        probabilities, p, tokens);
                softmaxRows(probabilities, p, tokens);
                Blas.gemm(false, false, tokens, headDim, tokens, 1f, probabilities, p, tokens, in, v, ld, 0f,
                        out, oo + b * tokens * dim + h * headDim, dim);
            }
        }
        return y;
    }

    /** Row-wise softmax of the n x n block at {@code offset}, in place; the exponentials come from MKL's vsExp. */
    private static void softmaxRows(float[] s, int offset, int n) {
        for (int r = 0; r < n; r++) {
            int row = offset + r * n;
            float max = Reductions.max(s, row, n);
            for (int c = 0; c < n; c++) {
                s[row + c] -= max;
            }
        }
        Blas.exp(n * n, s, offset, s, offset);
        for (int r = 0; r < n; r++) {
            int row = offset + r * n;
            float inv = 1f / Reductions.sum(s, row, n);
            for (int c = 0; c < n; c++) {
                s[row + c] *= inv;
            }
        }
    }

    @Override
    public Tensor<Float> updateGradInput(Tensor<Float> input, Tensor<Float> gradOutput) {
        int[] bt = batchAndTokens(input);
        int batch = bt[0];
        int tokens = bt[1];
        Tensor<Float> qkv = Tensors.contiguous(input);
        Tensor<Float> g = Tensors.contiguous(gradOutput);
        Tensor<Float> dx = gradInputTensor().resize(batch, tokens, 3 * dim);
        int tt = tokens * tokens;
        if (scratch == null || scratch.length < tt) {
            scratch = new float[tt];
            headProbabilities = new float[tt];
        }
        float[] in = Tensors.data(qkv);
        int io = Tensors.offset(qkv);
        float[] gs = Tensors.data(g);
        int go = Tensors.offset(g);
        float[] ds = Tensors.data(dx);
        int dof = Tensors.offset(dx);
        int ld = 3 * dim;
        float[] dp = scratch;
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < numHeads; h++) {
                int headOffset = b * tokens * ld + h * headDim;
                int q = io + headOffset;
                int k = q + dim;
                int v = q + 2 * dim;
                int p = (b * numHeads + h) * tt;
                int gOut = go + b * tokens * dim + h * headDim;
                // dP = dO V^T ; dV = P^T dO
                Blas.gemm(false, true, tokens, tokens, headDim, 1f, gs, gOut, dim, in, v, ld, 0f, dp, 0, tokens);
                Blas.gemm(true, false, tokens, headDim, tokens, 1f, probabilities, p, tokens, gs, gOut, dim, 0f,
                        ds, dof + headOffset + 2 * dim, ld);
                // dS = P * (dP - rowsum(dP * P)), with the head's P copied to an array indexed like dP (vectorised)
                float[] ph = headProbabilities;
                System.arraycopy(probabilities, p, ph, 0, tt);
                for (int r = 0; r < tokens; r++) {
                    int row = r * tokens;
                    float d = Reductions.dot(dp, row, ph, row, tokens);
                    for (int c = row; c < row + tokens; c++) {
                        dp[c] = ph[c] * (dp[c] - d);
                    }
                }
                // dQ = scale dS K ; dK = scale dS^T Q
                Blas.gemm(false, false, tokens, headDim, tokens, scale, dp, 0, tokens, in, k, ld, 0f,
                        ds, dof + headOffset, ld);
                Blas.gemm(true, false, tokens, headDim, tokens, scale, dp, 0, tokens, in, q, ld, 0f,
                        ds, dof + headOffset + dim, ld);
            }
        }
        return dx;
    }

    @Override
    public String toString() {
        return "SelfAttention(dim=" + dim + ", heads=" + numHeads + ")";
    }
}
