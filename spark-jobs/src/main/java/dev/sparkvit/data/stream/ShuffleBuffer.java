package dev.sparkvit.data.stream;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A shuffle buffer of K slots over the inputs 0..n-1 of one pass (tf.data's): it is filled to K (or to the end of the
 * inputs), then each output is a slot drawn uniformly from a seeded generator, whose place takes the next input. Input
 * i is thus never served before output {@code i - K + 1}, and every input exactly once per pass. The indices alone
 * decide the order, so a pass can be replayed without its rows ({@code T} null) to learn which rows the buffer holds
 * after q outputs ({@link #heldIndices}) and reloaded with them ({@link #put}).
 *
 * @param <T> the row carried with each index (null when only the order is simulated)
 */
final class ShuffleBuffer<T> {
    private final long[] indices;
    private final Object[] items;
    private final long inputs;
    private final SplittableRandom random;
    private int fill;
    private long next;

    ShuffleBuffer(int capacity, long inputs, long seed) {
        if (capacity < 1) {
            throw new IllegalArgumentException("a shuffle buffer needs at least one slot, got " + capacity);
        }
        this.indices = new long[capacity];
        this.items = new Object[capacity];
        this.inputs = inputs;
        this.random = new SplittableRandom(seed);
    }

    /** Whether the buffer takes an input before the next output: it is not full and inputs remain. */
    boolean needsInput() {
        return fill < indices.length && next < inputs;
    }

    /** The index of the next input the buffer takes (the inputs before it are in the buffer or served). */
    long nextInput() {
        return next;
    }

    /** Takes input {@link #nextInput()} with its row. */
    void add(T item) {
        indices[fill] = next++;
        items[fill++] = item;
    }

    /** Whether an output remains in this pass. */
    boolean hasOutput() {
        return fill > 0;
    }

    /** Serves the next output: the row of a slot drawn uniformly, whose place the last slot takes. */
    @SuppressWarnings("unchecked")
    T take() {
        int slot = random.nextInt(fill);
        T item = (T) items[slot];
        fill--;
        indices[slot] = indices[fill];
        items[slot] = items[fill];
        items[fill] = null;
        return item;
    }

    /** The inputs held now, sorted. */
    long[] heldIndices() {
        long[] held = Arrays.copyOf(indices, fill);
        Arrays.sort(held);
        return held;
    }

    /** Sets the row of held input {@code index} (after a replay of indices alone). */
    void put(long index, T item) {
        for (int i = 0; i < fill; i++) {
            if (indices[i] == index) {
                items[i] = item;
                return;
            }
        }
        throw new IllegalArgumentException("input " + index + " is not in the shuffle buffer");
    }

    /** Slots holding a row. */
    int rows() {
        int n = 0;
        for (int i = 0; i < fill; i++) {
            n += items[i] == null ? 0 : 1;
        }
        return n;
    }
}
