package dev.sparkvit.model.vit;

/**
 * LayerScale monitoring of one block (seed 000, "Monitoring LayerScale During Training"): mean and mean absolute
 * value of the attention-branch and MLP-branch gammas.
 */
public record LayerScaleStats(int block, double attentionMean, double attentionMeanAbs, double mlpMean,
        double mlpMeanAbs) {
    @Override
    public String toString() {
        return String.format("block %d: attn gamma mean %.3g |mean| %.3g, mlp gamma mean %.3g |mean| %.3g", block,
                attentionMean, attentionMeanAbs, mlpMean, mlpMeanAbs);
    }
}
