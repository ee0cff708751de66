package dev.sparkvit.model.vit;

/**
 * What sits on the encoder's feature vector.
 *
 * @param kind none (features only), a linear classifier, or the SimCLR projection head
 * @param outputs classes, or projection dimension; 0 for none
 */
public record Head(Kind kind, int outputs) {
    /** The head types. */
    public enum Kind {
        /** The encoder alone: (B, embedDim) features. */
        NONE,
        /** timm's {@code head}: one Linear to class logits. */
        CLASSIFIER,
        /** SimCLR's projection head g(.): Linear(d, d), ReLU, Linear(d, projectionDim) (Chen et al. 2020). */
        PROJECTION
    }

    /** SimCLR's projection size (training guide, seed 002: {@code projection_dim: 128}). */
    public static final int DEFAULT_PROJECTION_DIM = 128;

    public Head {
        if (kind == null) {
            throw new IllegalArgumentException("head kind is required");
        }
        if (kind == Kind.NONE ? outputs != 0 : outputs <= 0) {
            throw new IllegalArgumentException(kind == Kind.CLASSIFIER
                    ? "number of classes must be positive, got " + outputs
                    : kind == Kind.PROJECTION ? "projection_dim must be positive, got " + outputs
                    : "an encoder without head has no outputs");
        }
    }

    public static Head none() {
        return new Head(Kind.NONE, 0);
    }

    public static Head classifier(int numClasses) {
        return new Head(Kind.CLASSIFIER, numClasses);
    }

    public static Head projection(int projectionDim) {
        return new Head(Kind.PROJECTION, projectionDim);
    }
}
