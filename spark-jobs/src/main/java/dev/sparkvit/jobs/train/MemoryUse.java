package dev.sparkvit.jobs.train;

/**
 * What the running training job holds per model replica, for the one line an out-of-memory error ends with (the
 * CLI's {@code Main}): the model's tokens per image and the images of one replica's slice of the batch, whose
 * product (times the width and depth) sizes the activations, the attention maps growing with tokens squared.
 */
public final class MemoryUse {
    private static volatile String current;

    private MemoryUse() {
    }

    /**
     * Records the running job's shape: {@code preset} at {@code imgSize} px ({@code tokens} tokens per image),
     * {@code images} per replica.
     */
    public static void training(String preset, int imgSize, int tokens, int images) {
        current = preset + " at " + imgSize + " px: " + tokens + " tokens x " + images + " images per replica";
    }

    /** The running job's shape, or null when no training job has started. */
    public static String current() {
        return current;
    }
}
