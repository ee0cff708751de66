package dev.sparkvit.engine;

import java.util.concurrent.ThreadLocalRandom;

/**
 * The float vectors of a {@link BarrierSegment}'s state (the weights, every optimiser buffer, the EMA) on their way
 * between the driver and the barrier tasks, as blocks of Spark's BlockManager ({@link FloatBlocks}) in chunks of at
 * most {@link #CHUNK} floats, instead of a broadcast or a task result. A reader copies each chunk straight into its
 * own array and keeps no copy (a remote chunk is fetched, copied and dropped; a broadcast's pieces and value stay on
 * every executor until it is destroyed), and a task's result stays a few hundred bytes whatever the model's size (a
 * task result of P floats is serialised twice into growing byte arrays by Spark, and counts against
 * {@code spark.driver.maxResultSize}). Floats travel as their little-endian bits: exact.
 *
 * <p>All blocks of one segment share a name prefix ({@link #newRun}); block {@code <run><vector>_<chunk>}. The
 * driver removes every block of the run with {@link #removeAll} once it has read what it needs, whether the stage
 * succeeded or failed.
 */
final class StateBlocks {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(StateBlocks.class);
    /** Floats per block (16 MB): what a reader holds at once besides its arrays. */
    static final int CHUNK = 1 << 22;

    private final FloatBlocks blocks;
    private final String run;

    /** The blocks of run {@code run} ({@link #newRun}) in this JVM's BlockManager (a task's or the driver's). */
    StateBlocks(String run) {
        this.blocks = new FloatBlocks(false);
        this.run = run;
    }

    /** A name prefix no other segment of this application uses. */
    static String newRun() {
        return FloatBlocks.PREFIX.substring("test_".length()) + "state_"
                + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE) + "_";
    }

    /** The run's prefix. */
    String run() {
        return run;
    }

    /** Stores {@code values[from, from + count)} as vector {@code vector} (nothing when {@code count} is 0). */
    void put(String vector, float[] values, int from, int count) {
        for (int c = 0; c * (long) CHUNK < count; c++) {
            int at = c * CHUNK;
            blocks.put(run + vector + "_" + c, values, from + at, Math.min(CHUNK, count - at));
        }
    }

    /** Copies vector {@code vector}, stored with {@code count} floats, into {@code into[at, at + count)}. */
    void read(String vector, float[] into, int at, int count) {
        for (int c = 0; c * (long) CHUNK < count; c++) {
            int offset = c * CHUNK;
            blocks.read(run + vector + "_" + c, into, at + offset, Math.min(CHUNK, count - offset));
        }
    }

    /**
     * Removes the blocks of every vector whose name starts with {@code vectorPrefix}, on every executor. A failure to
     * remove is logged, not thrown: it runs after a stage, also a failed one, whose own exception must reach the
     * caller (the restart path, the non-finite guard), and a block left behind costs storage memory only.
     */
    void remove(String vectorPrefix) {
        try {
            blocks.removeMatching(run + vectorPrefix);
        } catch (RuntimeException e) {
            LOG.warn("segment: could not remove the blocks {}{}*: {}", run, vectorPrefix, e.toString());
        }
    }

    /** Removes every block of the run, on every executor (the driver, after the stage). */
    void removeAll() {
        remove("");
    }
}
