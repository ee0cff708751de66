package dev.sparkvit.model.vit;

import dev.sparkvit.model.layers.TokenPooling;

/**
 * Architecture of a Vision Transformer. Validated on construction; {@link #toString()} shows every field.
 *
 * @param imgSize input image side in pixels, a multiple of {@code patchSize}
 * @param patchSize patch side (the patch-embedding kernel and stride)
 * @param inChans input channels (3 for RGB)
 * @param embedDim token width, a multiple of {@code numHeads}
 * @param depth number of transformer blocks
 * @param numHeads attention heads per block
 * @param mlpRatio MLP hidden width / embedDim
 * @param dropPathRate stochastic-depth rate of the last block, rising linearly from 0 at the first; 0 builds none
 * @param useLayerScale whether each residual branch ends with a LayerScale
 * @param layerScaleInit initial value of every LayerScale gamma (ignored when LayerScale is off)
 * @param pooling how tokens become the feature vector: the class token, or the mean of the patch tokens (then, as
 *     in timm, the final LayerNorm moves after the pooling)
 */
public record VitConfig(int imgSize, int patchSize, int inChans, int embedDim, int depth, int numHeads,
        double mlpRatio, double dropPathRate, boolean useLayerScale, double layerScaleInit,
        TokenPooling.Mode pooling) implements java.io.Serializable {

    public VitConfig {
        require(patchSize > 0, "patch_size", patchSize, "positive");
        require(imgSize > 0 && imgSize % patchSize == 0, "img_size", imgSize,
                "a positive multiple of patch_size " + patchSize);
        require(inChans > 0, "in_chans", inChans, "positive");
        require(numHeads > 0, "num_heads", numHeads, "positive");
        require(embedDim > 0 && embedDim % numHeads == 0, "embed_dim", embedDim,
                "a positive multiple of num_heads " + numHeads);
        require(depth > 0, "depth", depth, "positive");
        require(mlpRatio > 0 && mlpHidden(embedDim, mlpRatio) > 0, "mlp_ratio", mlpRatio, "positive");
        require(dropPathRate >= 0 && dropPathRate < 1, "drop_path_rate", dropPathRate, "in [0, 1)");
        require(!useLayerScale || (layerScaleInit > 0 && Double.isFinite(layerScaleInit)), "layer_scale_init",
                layerScaleInit, "a positive number when LayerScale is on");
        require(pooling != null, "pooling", pooling, "class_token or mean");
    }

    private static void require(boolean ok, String key, Object value, String expected) {
        if (!ok) {
            throw new IllegalArgumentException("model." + key + " = " + value + " is invalid: expected " + expected);
        }
    }

    private static int mlpHidden(int embedDim, double mlpRatio) {
        return (int) (embedDim * mlpRatio);
    }

    /** Patches per image. */
    public int numPatches() {
        int grid = imgSize / patchSize;
        return grid * grid;
    }

    /** Tokens per image: the patches plus the class token. */
    public int numTokens() {
        return numPatches() + 1;
    }

    /** MLP hidden width, as timm: {@code int(embedDim * mlpRatio)}. */
    public int mlpHiddenDim() {
        return mlpHidden(embedDim, mlpRatio);
    }

    /** Drop-path rate of block {@code index}: linear from 0 (first block) to dropPathRate (last), as timm. */
    public double dropPathRate(int index) {
        return depth == 1 ? dropPathRate : dropPathRate * index / (depth - 1);
    }

    public VitConfig withImgSize(int size) {
        return new VitConfig(size, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, dropPathRate,
                useLayerScale, layerScaleInit, pooling);
    }

    public VitConfig withDropPathRate(double rate) {
        return new VitConfig(imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, rate, useLayerScale,
                layerScaleInit, pooling);
    }

    public VitConfig withLayerScale(boolean enabled, double init) {
        return new VitConfig(imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, dropPathRate, enabled,
                init, pooling);
    }

    public VitConfig withPooling(TokenPooling.Mode mode) {
        return new VitConfig(imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, dropPathRate,
                useLayerScale, layerScaleInit, mode);
    }
}
