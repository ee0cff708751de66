package dev.sparkvit.model.vit;

/**
 * Floating-point operations of one image through a Vision Transformer, counting the matrix products only (a
 * multiply-add is 2 FLOPs), the convention of model-FLOPs utilisation: the patch embedding, the fused qkv
 * projection, the attention scores {@code q k^T} and the weighted sum {@code P v}, the output projection, the two MLP
 * layers and the head. Norms, softmax, GELU, LayerScale, residual adds and the optimiser are not counted. A training
 * step counts three forward passes (backward costs two: the input and the weight gradient of every product),
 * whatever an implementation actually skips (no image gradient is needed, for instance).
 *
 * @param patchEmbed patch embedding, per image
 * @param qkv the qkv projections of all blocks
 * @param attentionScores {@code q k^T} of all blocks and heads
 * @param attentionValues {@code softmax(.) v} of all blocks and heads
 * @param projection the attention output projections of all blocks
 * @param mlp both MLP layers of all blocks
 * @param head the head (0 without one)
 */
public record VitFlops(long patchEmbed, long qkv, long attentionScores, long attentionValues, long projection,
        long mlp, long head) {

    /** The forward-pass matrix-product FLOPs of one image through {@code config} with {@code head}. */
    public static VitFlops of(VitConfig config, Head head) {
        long d = config.embedDim();
        long t = config.numTokens();
        long depth = config.depth();
        long hidden = config.mlpHiddenDim();
        long patchLength = (long) config.inChans() * config.patchSize() * config.patchSize();
        long headMacs = switch (head.kind()) {
            case NONE -> 0;
            case CLASSIFIER -> d * head.outputs();
            case PROJECTION -> d * d + d * head.outputs();
        };
        return new VitFlops(
                2 * config.numPatches() * d * patchLength,
                depth * 2 * t * d * 3 * d,
                depth * 2 * t * t * d,
                depth * 2 * t * t * d,
                depth * 2 * t * d * d,
                depth * 2 * 2 * t * d * hidden,
                2 * headMacs);
    }

    /** FLOPs of one forward pass of one image. */
    public long forward() {
        return patchEmbed + qkv + attentionScores + attentionValues + projection + mlp + head;
    }

    /** FLOPs of one training step per image: forward and backward, 3 x {@link #forward()}. */
    public long training() {
        return 3 * forward();
    }
}
