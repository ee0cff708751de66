package dev.sparkvit.engine;

/**
 * A flat array of {@code length} numbers cut into {@code parts} contiguous chunks whose sizes differ by at most one:
 * chunk j is {@code [floor(j * length / parts), floor((j + 1) * length / parts))}. Chunks may be empty (when
 * {@code length < parts}). Every task computes the same chunks from the same two numbers.
 */
record GradientChunks(int length, int parts) {
    GradientChunks {
        if (length < 0 || parts < 1) {
            throw new IllegalArgumentException("chunks of " + length + " numbers in " + parts + " parts");
        }
    }

    /** First index of chunk {@code j}. */
    int from(int j) {
        return (int) ((long) length * j / parts);
    }

    /** One past the last index of chunk {@code j}. */
    int to(int j) {
        return from(j + 1);
    }

    int size(int j) {
        return to(j) - from(j);
    }
}
