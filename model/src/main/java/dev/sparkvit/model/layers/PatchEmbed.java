package dev.sparkvit.model.layers;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.Blas;
import dev.sparkvit.engine.FloatModule;
import dev.sparkvit.engine.Tensors;
import java.util.Arrays;

/**
 * Patch embedding (Dosovitskiy et al. 2021): a convolution with kernel = stride = patch over an image (B, C, H, W),
 * flattened to tokens (B, N, embedDim) in row-major patch order, as timm's {@code PatchEmbed}. Because patches do
 * not overlap the convolution is exactly one GEMM over the unfolded patches; the weight keeps the convolution's
 * shape (embedDim, C, patch, patch) so it maps one-to-one onto timm's {@code patch_embed.proj.weight}.
 */
public final class PatchEmbed extends FloatModule {
    private static final long serialVersionUID = 1L;

    private final int imgSize;
    private final int patchSize;
    private final int inChans;
    private final int embedDim;
    private final int grid;
    private final int patchLength;
    private transient float[] columns;

    public PatchEmbed(int imgSize, int patchSize, int inChans, int embedDim) {
        if (patchSize <= 0 || imgSize <= 0 || imgSize % patchSize != 0) {
            throw new IllegalArgumentException("image size " + imgSize + " must be a positive multiple of patch size "
                    + patchSize);
        }
        if (inChans <= 0 || embedDim <= 0) {
            throw new IllegalArgumentException("PatchEmbed channels must be positive, got " + inChans + " -> "
                    + embedDim);
        }
        Blas.requireMkl();
        this.imgSize = imgSize;
        this.patchSize = patchSize;
        this.inChans = inChans;
        this.embedDim = embedDim;
        this.grid = imgSize / patchSize;
        this.patchLength = inChans * patchSize * patchSize;
        addParameter("proj.weight", Tensors.zeros(embedDim, inChans, patchSize, patchSize), false);
        addParameter("proj.bias", Tensors.zeros(embedDim), true);
    }

    /** Tokens per image: (imgSize / patchSize)^2. */
    public int numPatches() {
        return grid * grid;
    }

    private int batch(Tensor<Float> x) {
        int[] shape = Tensors.shape(x);
        if (shape.length != 4 || shape[1] != inChans || shape[2] != imgSize || shape[3] != imgSize) {
            throw new IllegalArgumentException("PatchEmbed expects images of shape (B, " + inChans + ", " + imgSize
                    + ", " + imgSize + "), got " + Arrays.toString(shape));
        }
        return shape[0];
    }

    /** Unfolds the images into rows of one patch each, in the weight's (channel, y, x) order. */
    private float[] unfold(Tensor<Float> x, int batch) {
        int rows = batch * numPatches();
        if (columns == null || columns.length < rows * patchLength) {
            columns = new float[rows * patchLength];
        }
        float[] xs = Tensors.data(x);
        int xo = Tensors.offset(x);
        int plane = imgSize * imgSize;
        int row = 0;
        for (int b = 0; b < batch; b++) {
            for (int gy = 0; gy < grid; gy++) {
                for (int gx = 0; gx < grid; gx++) {
                    int dst = row * patchLength;
                    for (int c = 0; c < inChans; c++) {
                        int src = xo + (b * inChans + c) * plane + gy * patchSize * imgSize + gx * patchSize;
                        for (int ky = 0; ky < patchSize; ky++) {
                            System.arraycopy(xs, src + ky * imgSize, columns, dst, patchSize);
                            dst += patchSize;
                        }
                    }
                    row++;
                }
            }
        }
        return columns;
    }

    @Override
    public Tensor<Float> updateOutput(Tensor<Float> input) {
        int batch = batch(input);
        Tensor<Float> x = Tensors.contiguous(input);
        int rows = batch * numPatches();
        float[] cols = unfold(x, batch);
        Tensor<Float> y = outputTensor().resize(batch, numPatches(), embedDim);
        float[] ys = Tensors.data(y);
        int yo = Tensors.offset(y);
        float[] bias = Tensors.data(weight(1));
        int bo = Tensors.offset(weight(1));
        for (int r = 0; r < rows; r++) {
            System.arraycopy(bias, bo, ys, yo + r * embedDim, embedDim);
        }
        Blas.gemm(false, true, rows, embedDim, patchLength, 1f, cols, 0, patchLength,
                Tensors.data(weight(0)), Tensors.offset(weight(0)), patchLength, 1f, ys, yo, embedDim);
        return y;
    }

    @Override
    public Tensor<Float> updateGradInput(Tensor<Float> input, Tensor<Float> gradOutput) {
        int batch = batch(input);
        int rows = batch * numPatches();
        Tensor<Float> g = Tensors.contiguous(gradOutput);
        float[] dcols = new float[rows * patchLength];
        Blas.gemm(false, false, rows, patchLength, embedDim, 1f, Tensors.data(g), Tensors.offset(g), embedDim,
                Tensors.data(weight(0)), Tensors.offset(weight(0)), patchLength, 0f, dcols, 0, patchLength);
        Tensor<Float> dx = gradInputTensor().resize(batch, inChans, imgSize, imgSize);
        float[] ds = Tensors.data(dx);
        int dof = Tensors.offset(dx);
        int plane = imgSize * imgSize;
        int row = 0;
        for (int b = 0; b < batch; b++) {
            for (int gy = 0; gy < grid; gy++) {
                for (int gx = 0; gx < grid; gx++) {
                    int src = row * patchLength;
                    for (int c = 0; c < inChans; c++) {
                        int dst = dof + (b * inChans + c) * plane + gy * patchSize * imgSize + gx * patchSize;
                        for (int ky = 0; ky < patchSize; ky++) {
                            System.arraycopy(dcols, src, ds, dst + ky * imgSize, patchSize);
                            src += patchSize;
                        }
                    }
                    row++;
                }
            }
        }
        return dx;
    }

    @Override
    public void accGradParameters(Tensor<Float> input, Tensor<Float> gradOutput) {
        int batch = batch(input);
        int rows = batch * numPatches();
        Tensor<Float> x = Tensors.contiguous(input);
        Tensor<Float> g = Tensors.contiguous(gradOutput);
        float[] gs = Tensors.data(g);
        int go = Tensors.offset(g);
        float scaleW = (float) getScaleW();
        float scaleB = (float) getScaleB();
        if (scaleW != 0f) {
            float[] cols = unfold(x, batch);
            Blas.gemm(true, false, embedDim, patchLength, rows, scaleW, gs, go, embedDim, cols, 0, patchLength, 1f,
                    Tensors.data(gradient(0)), Tensors.offset(gradient(0)), patchLength);
        }
        if (scaleB != 0f) {
            float[][] scratch = {new float[RowChunks.length(embedDim)], new float[RowChunks.length(embedDim)]};
            RowChunks.addColumnSums(gs, go, rows, embedDim, scaleB, Tensors.data(gradient(1)),
                    Tensors.offset(gradient(1)), scratch[0], scratch[1]);
        }
    }

    @Override
    public String toString() {
        return "PatchEmbed(" + imgSize + "px, patch " + patchSize + ", " + inChans + " -> " + embedDim + ")";
    }
}
