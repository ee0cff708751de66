package dev.sparkvit.model.layers;

/**
 * Helpers for processing a channels-last tensor (rows of {@code dim} channels) in chunks of whole rows copied to
 * scratch arrays that start at index 0, with per-channel parameters tiled to the chunk's layout. HotSpot's C2
 * (Java 17) vectorises a loop that stores to a float array only when every float array in it is indexed by the same
 * expression: with {@code y[yo + i] = x[xo + i] * w[wo + i]} it cannot rule out that the arrays overlap at different
 * offsets and runs the loop one element at a time. Over a staged chunk every array is indexed {@code base + c}, and
 * the chunk stays in the first-level cache, so the two copies cost little.
 */
final class RowChunks {
    /** Floats per chunk (8 KB) unless one row is longer. */
    static final int TARGET = 2048;

    private RowChunks() {
    }

    /** Rows per chunk for rows of {@code dim} channels: at least one. */
    static int rows(int dim) {
        return Math.max(1, TARGET / dim);
    }

    /** Floats per chunk for rows of {@code dim} channels. */
    static int length(int dim) {
        return rows(dim) * dim;
    }

    /** {@code into[r * dim + c] = src[offset + c]} for every row r of a chunk; returns {@code into}. */
    static float[] tile(float[] src, int offset, int dim, float[] into) {
        int rows = rows(dim);
        for (int r = 0; r < rows; r++) {
            System.arraycopy(src, offset, into, r * dim, dim);
        }
        return into;
    }

    /** {@code into[c] += scale * sum over the chunk's rows of acc[r * dim + c]}: folds tiled sums into a vector. */
    static void fold(float[] acc, int dim, float scale, float[] into, int offset) {
        int rows = rows(dim);
        for (int c = 0; c < dim; c++) {
            float s = 0;
            for (int r = 0; r < rows; r++) {
                s += acc[r * dim + c];
            }
            into[offset + c] += scale * s;
        }
    }

    /**
     * {@code into[intoOffset + c] += scale * sum over rows r of src[offset + r * dim + c]}: the column sums of a
     * rows x dim matrix (a bias gradient), through staged chunks. {@code chunk} and {@code acc} are scratch arrays of
     * at least {@link #length(int)} floats.
     */
    static void addColumnSums(float[] src, int offset, int rows, int dim, float scale, float[] into, int intoOffset,
            float[] chunk, float[] acc) {
        int length = length(dim);
        java.util.Arrays.fill(acc, 0, length, 0f);
        int n = rows * dim;
        for (int start = 0; start < n; start += length) {
            int len = Math.min(length, n - start);
            System.arraycopy(src, offset + start, chunk, 0, len);
            for (int i = 0; i < len; i++) {
                acc[i] += chunk[i];
            }
        }
        fold(acc, dim, scale, into, intoOffset);
    }
}
