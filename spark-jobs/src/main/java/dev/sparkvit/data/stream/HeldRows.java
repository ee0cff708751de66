package dev.sparkvit.data.stream;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The rows the streams of this JVM hold (shuffle buffers and mixing windows), and the most they ever held at once: the
 * executor's data memory is this many stored rows (plus each open reader's row group), whatever the dataset's size.
 */
public final class HeldRows {
    private static final AtomicLong HELD = new AtomicLong();
    private static final AtomicLong PEAK = new AtomicLong();

    private HeldRows() {
    }

    static void change(long delta) {
        long now = HELD.addAndGet(delta);
        PEAK.accumulateAndGet(now, Math::max);
    }

    /** Rows held now. */
    public static long now() {
        return HELD.get();
    }

    /** The most rows held at once since the last {@link #resetPeak}. */
    public static long peak() {
        return PEAK.get();
    }

    /** Starts a new peak from the rows held now. */
    public static void resetPeak() {
        PEAK.set(HELD.get());
    }
}
