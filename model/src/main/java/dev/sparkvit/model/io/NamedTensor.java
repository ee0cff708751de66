package dev.sparkvit.model.io;

import java.util.Arrays;

/**
 * A tensor read from or written to a weight file: row-major float values and their shape.
 *
 * @param shape dimensions, outermost first (empty for a scalar)
 * @param values {@code product(shape)} floats in row-major order
 */
public record NamedTensor(int[] shape, float[] values) {
    public NamedTensor {
        long count = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            count *= d;
        }
        if (count != values.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + count
                    + " values, got " + values.length);
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof NamedTensor t && Arrays.equals(shape, t.shape) && Arrays.equals(values, t.values);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return "NamedTensor" + Arrays.toString(shape);
    }
}
