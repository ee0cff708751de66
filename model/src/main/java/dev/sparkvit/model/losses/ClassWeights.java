package dev.sparkvit.model.losses;

/** Per-class loss weights from the training distribution. */
public final class ClassWeights {
    private ClassWeights() {
    }

    /**
     * "Balanced" weights, {@code w_c = N / (C n_c)} (scikit-learn's convention): a class with half the average count
     * weighs 2, and the count-weighted mean of the weights is 1.
     *
     * @throws IllegalArgumentException when a class has no training example (its weight would be infinite)
     */
    public static float[] balanced(long[] counts) {
        long total = 0;
        for (int c = 0; c < counts.length; c++) {
            if (counts[c] <= 0) {
                throw new IllegalArgumentException("class " + c + " has no training examples; balanced weights need "
                        + "every class present (counts " + java.util.Arrays.toString(counts) + ")");
            }
            total += counts[c];
        }
        float[] weights = new float[counts.length];
        for (int c = 0; c < counts.length; c++) {
            weights[c] = (float) ((double) total / (counts.length * (double) counts[c]));
        }
        return weights;
    }
}
