package dev.sparkvit.data.stream;

import dev.sparkvit.engine.CachedPartitions;
import dev.sparkvit.engine.EpochSource;
import org.apache.spark.sql.Row;

/**
 * One partition's stream in one epoch, on the executor: its inputs ({@link EpochLayout}) read in order through a
 * {@link ShuffleBuffer} of {@code bufferRows} rows seeded by (seed, epoch, partition), the last {@code window} outputs
 * kept for the mixing partners of a micro-batch's chunk. Position p of the endless stream is output {@code p mod
 * length} of the pass, each pass the same order.
 *
 * <p>Reading never goes back: a position behind the window, or far ahead of the newest (a segment resumed after a
 * restart, or on another executor), is reached by {@link #seekTo}: the pass's shuffle replayed on indices alone, then
 * the inputs read up to the buffer's frontier keeping only the rows the buffer holds at that point (row groups
 * without one are not read); nothing is decoded or augmented. The stream then continues bit for bit as the
 * uninterrupted one. Rows held: at most {@code bufferRows + window} ({@link HeldRows}).
 */
final class StreamCursor implements EpochSource.Sequence<Row>, AutoCloseable {
    private final StreamPlan plan;
    private final String source;
    private final int epoch;
    private final EpochLayout layout;
    private final long length;
    private final long shuffleSeed;
    private final Row[] window;
    private long windowStart;
    private long produced;
    private ShuffleBuffer<Row> buffer;
    private PieceReader input;

    StreamCursor(StreamPlan plan, String source, int epoch, int partitions, int partition) {
        this.plan = plan;
        this.source = source;
        this.epoch = epoch;
        this.layout = EpochLayout.of(plan.files(), plan.seed(), epoch, partitions, partition);
        this.length = layout.length();
        this.shuffleSeed = CachedPartitions.mix(plan.seed() ^ 0x2545f4914f6cdd1dL, epoch, partition);
        this.window = new Row[Math.max(1, plan.window())];
    }

    /** Whether this is the cursor of {@code source}'s epoch {@code epoch}. */
    boolean serves(String source, int epoch) {
        return this.source.equals(source) && this.epoch == epoch;
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public Row at(long position) {
        if (position < 0 || length == 0) {
            throw new IllegalArgumentException("no position " + position + " in a stream of " + length + " rows");
        }
        if (buffer == null || position < windowStart || position >= produced + window.length) {
            seekTo(position);
        }
        while (produced <= position) {
            produceOne();
        }
        return window[(int) (position % window.length)];
    }

    /** The newest position served plus one. */
    long produced() {
        return produced;
    }

    private void produceOne() {
        if (!buffer.hasOutput() && !buffer.needsInput()) {
            startPass(); // the pass is over: the stream wraps to the same order
        }
        while (buffer.needsInput()) {
            buffer.add(input.next());
            HeldRows.change(1);
        }
        Row row = buffer.take();
        int slot = (int) (produced % window.length);
        if (window[slot] == null) {
            HeldRows.change(1);
        }
        HeldRows.change(-1);
        window[slot] = row;
        produced++;
        windowStart = Math.max(windowStart, produced - window.length);
    }

    /** Positions the stream so that the next output is {@code position} (see the class comment). */
    void seekTo(long position) {
        release();
        startPass();
        long outputs = position % length;
        for (long i = 0; i < outputs; i++) {
            while (buffer.needsInput()) {
                buffer.add(null);
            }
            buffer.take();
        }
        ShuffleBuffer<Row> b = buffer;
        input.skipTo(b.nextInput(), b.heldIndices(), (row, index) -> {
            b.put(index, row);
            HeldRows.change(1);
        });
        produced = position;
        windowStart = position;
    }

    private void startPass() {
        if (input != null) {
            input.close();
        }
        if (buffer != null) {
            HeldRows.change(-buffer.rows());
        }
        buffer = new ShuffleBuffer<>(plan.bufferRows(), length, shuffleSeed);
        input = new PieceReader(plan, layout);
    }

    private void release() {
        for (int i = 0; i < window.length; i++) {
            if (window[i] != null) {
                HeldRows.change(-1);
                window[i] = null;
            }
        }
    }

    @Override
    public void close() {
        release();
        if (buffer != null) {
            HeldRows.change(-buffer.rows());
            buffer = null;
        }
        if (input != null) {
            input.close();
            input = null;
        }
    }
}
