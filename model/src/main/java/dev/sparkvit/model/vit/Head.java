package dev.sparkvit.model.vit;

/**
 * What sits on the encoder's feature vector.
 *
 * @param kind none (features only), a linear classifier, or the SimCLR projection head
 * @param outputs classes, or projection dimension; 0 for none
 * @param batchNorm for the projection head: a {@link dev.sparkvit.model.layers.BatchNorm} after its hidden layer
 * @param synchronised that BatchNorm as {@link dev.sparkvit.model.layers.SyncBatchNorm}: statistics of the global
 *     batch in a barrier step, the plain one elsewhere (a single-process forward)
 */
public record Head(Kind kind, int outputs, boolean batchNorm, boolean synchronised) {
    /** The head types. */
    public enum Kind {
        /** The encoder alone: (B, embedDim) features. */
        NONE,
        /** timm's {@code head}: one Linear to class logits. */
        CLASSIFIER,
        /**
         * SimCLR's projection head g(.) (Chen et al. 2020): Linear(d, d), BatchNorm (SimCLR's own head has it; off
         * in {@link #projection(int, boolean)}), ReLU, Linear(d, projectionDim).
         */
        PROJECTION
    }

    /** SimCLR's projection size (training guide, seed 002: {@code projection_dim: 128}). */
    public static final int DEFAULT_PROJECTION_DIM = 128;

    public Head {
        if (kind == null) {
            throw new IllegalArgumentException("head kind is required");
        }
        if (batchNorm && kind != Kind.PROJECTION) {
            throw new IllegalArgumentException("only the projection head has a BatchNorm");
        }
        if (synchronised && !batchNorm) {
            throw new IllegalArgumentException("only a head with a BatchNorm can synchronise it");
        }
        if (kind == Kind.NONE ? outputs != 0 : outputs <= 0) {
            throw new IllegalArgumentException(kind == Kind.CLASSIFIER
                    ? "number of classes must be positive, got " + outputs
                    : kind == Kind.PROJECTION ? "projection_dim must be positive, got " + outputs
                    : "an encoder without head has no outputs");
        }
    }

    /** A head whose BatchNorm (if any) is not synchronised. */
    public Head(Kind kind, int outputs, boolean batchNorm) {
        this(kind, outputs, batchNorm, false);
    }

    public static Head none() {
        return new Head(Kind.NONE, 0, false);
    }

    public static Head classifier(int numClasses) {
        return new Head(Kind.CLASSIFIER, numClasses, false);
    }

    /** SimCLR's projection head with its BatchNorm. */
    public static Head projection(int projectionDim) {
        return projection(projectionDim, true);
    }

    public static Head projection(int projectionDim, boolean batchNorm) {
        return new Head(Kind.PROJECTION, projectionDim, batchNorm);
    }

    /**
     * The projection head with or without its BatchNorm, {@code synchronised} over the global batch of a barrier
     * step ({@link dev.sparkvit.model.layers.SyncBatchNorm}: the same names and weights, the plain BatchNorm's bits
     * outside one).
     */
    public static Head projection(int projectionDim, boolean batchNorm, boolean synchronised) {
        return new Head(Kind.PROJECTION, projectionDim, batchNorm, batchNorm && synchronised);
    }
}
