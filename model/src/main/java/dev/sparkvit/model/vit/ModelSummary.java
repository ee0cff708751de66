package dev.sparkvit.model.vit;

/**
 * Size and cost of a Vision Transformer, computed from its config: trainable parameters, multiply-adds per image
 * (the matrix products: patch embedding, qkv, attention scores and weighted sum, projection, MLP and head, the
 * convention of the published ViT figures) and LayerScale's share of the parameters. For ViT-B/16 at 224 px with a
 * 1000-class head this gives 86.57 M parameters and 17.58 G multiply-adds.
 *
 * @param parameters trainable scalars
 * @param multiplyAdds multiply-adds of one forward pass over one image
 * @param layerScaleParameters parameters held by LayerScale gammas
 * @param layerScaleMultiplies LayerScale's multiplies per image (its flop count, counted separately)
 */
public record ModelSummary(VitConfig config, Head head, long parameters, long multiplyAdds,
        long layerScaleParameters, long layerScaleMultiplies) {

    public static ModelSummary of(VitConfig config, Head head) {
        long d = config.embedDim();
        long hidden = config.mlpHiddenDim();
        long t = config.numTokens();
        long patch = (long) config.inChans() * config.patchSize() * config.patchSize();

        long stemParams = d * patch + d + d + t * d;
        long norms = 2 * (2 * d);
        long attention = (3 * d * d + 3 * d) + (d * d + d);
        long mlp = (hidden * d + hidden) + (d * hidden + d);
        long layerScale = config.useLayerScale() ? 2 * d : 0;
        long blockParams = norms + attention + mlp + layerScale;
        long neckParams = 2 * d;
        long headParams = switch (head.kind()) {
            case NONE -> 0;
            case CLASSIFIER -> d * head.outputs() + head.outputs();
            case PROJECTION -> (d * d + d) + (head.batchNorm() ? 2 * d : 0) + (d * head.outputs() + head.outputs());
        };
        long parameters = stemParams + config.depth() * blockParams + neckParams + headParams;

        long macs = VitFlops.of(config, head).forward() / 2; // the same matrix products, 2 FLOPs per multiply-add

        long lsParams = config.depth() * layerScale;
        long lsMultiplies = config.useLayerScale() ? config.depth() * 2L * t * d : 0;
        return new ModelSummary(config, head, parameters, macs, lsParams, lsMultiplies);
    }

    /** LayerScale parameters as a percentage of all parameters. */
    public double layerScaleSharePercent() {
        return 100.0 * layerScaleParameters / parameters;
    }

    /** A few lines for operators. */
    public String render(String name) {
        return String.format("""
                model             %s
                architecture      %d px, patch %d, embed %d, depth %d, heads %d, mlp ratio %s, pooling %s
                head              %s
                parameters        %,d (%.2f M)
                multiply-adds     %,d per image (%.2f G)
                LayerScale        %s
                """, name, config.imgSize(), config.patchSize(), config.embedDim(), config.depth(),
                config.numHeads(), config.mlpRatio(), config.pooling(),
                head.kind() == Head.Kind.NONE ? "none (features)" : head.kind() + " -> " + head.outputs(),
                parameters, parameters / 1e6, multiplyAdds, multiplyAdds / 1e9,
                config.useLayerScale()
                        ? String.format("init %s, %,d parameters (%.4f%% of all), %,d multiplies per image",
                                config.layerScaleInit(), layerScaleParameters, layerScaleSharePercent(),
                                layerScaleMultiplies)
                        : "off");
    }
}
