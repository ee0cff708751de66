package dev.sparkvit.model.io;

import java.util.Map;

/**
 * A weights or checkpoint file was about to be written from tensors holding NaN or infinity: the write is refused, so
 * that a poisoned training state can never replace good files. The message names the file and the first such
 * tensor, with its count of non-finite values and where the first one is.
 */
public final class NonFiniteValuesException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    private NonFiniteValuesException(String message) {
        super(message);
    }

    /**
     * Refuses {@code tensors} when any holds a non-finite value.
     *
     * @param what what would have been written, for the message (e.g. "weights file out/x.safetensors")
     * @throws NonFiniteValuesException naming {@code what}, the tensor, the count and the first value's index
     */
    public static void requireFinite(Map<String, NamedTensor> tensors, String what) {
        String problem = firstNonFinite(tensors);
        if (problem != null) {
            throw new NonFiniteValuesException("refusing to write " + what + ": " + problem + "; nothing was written");
        }
    }

    /**
     * The first of {@code tensors} holding NaN or infinity, described ("tensor NAME holds 3 non-finite values of 768
     * (the first, NaN, at element 17)"), or null when all are finite.
     */
    public static String firstNonFinite(Map<String, NamedTensor> tensors) {
        for (Map.Entry<String, NamedTensor> entry : tensors.entrySet()) {
            float[] values = entry.getValue().values();
            int count = 0;
            int first = -1;
            for (int i = 0; i < values.length; i++) {
                if (!Float.isFinite(values[i])) {
                    count++;
                    if (first < 0) {
                        first = i;
                    }
                }
            }
            if (count > 0) {
                return "tensor " + entry.getKey() + " holds " + count + " non-finite value" + (count == 1 ? "" : "s")
                        + " of " + values.length + " (the first, " + values[first] + ", at element " + first + ")";
            }
        }
        return null;
    }
}
