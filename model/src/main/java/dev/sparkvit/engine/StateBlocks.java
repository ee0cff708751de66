package dev.sparkvit.engine;

import java.util.LinkedHashSet;
import java.util.Set;
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
 * driver removes the blocks it put and read ({@link #removeSeen}) once the stage is over and once it has read the
 * tasks' pieces; a task that fails removes the pieces it put (its failure listener), and the tasks put theirs before
 * their last barrier, so a stage that fails has every task fail with them.
 */
final class StateBlocks {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(StateBlocks.class);
    /** Floats per block (16 MB): what a reader holds at once besides its arrays. */
    static final int CHUNK = 1 << 22;

    private final FloatBlocks blocks;
    private final String run;
    /** The blocks this object put or read, by name. */
    private final Set<String> seen = new LinkedHashSet<>();

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
        chunks(vector, count, (name, offset, size) -> blocks.put(name, values, from + offset, size));
    }

    /** Copies vector {@code vector}, stored with {@code count} floats, into {@code into[at, at + count)}. */
    void read(String vector, float[] into, int at, int count) {
        chunks(vector, count, (name, offset, size) -> blocks.read(name, into, at + offset, size));
    }

    /** What is done with one chunk: block {@code name} holds floats {@code [offset, offset + size)} of a vector. */
    @FunctionalInterface
    private interface Chunk {
        void accept(String name, int offset, int size);
    }

    /** {@code chunk} for every chunk of vector {@code vector} of {@code count} floats, each name remembered. */
    private void chunks(String vector, int count, Chunk chunk) {
        for (int c = 0; c * (long) CHUNK < count; c++) {
            int offset = c * CHUNK;
            String name = run + vector + "_" + c;
            seen.add(name);
            chunk.accept(name, offset, Math.min(CHUNK, count - offset));
        }
    }

    /**
     * Removes every block this object put or read, wherever it is: the driver the start it put and the pieces it
     * read, a failed task the pieces it put. A failure to remove is logged, not thrown: it runs after a stage, also a
     * failed one, whose own exception must reach the caller (the restart path, the non-finite guard), and a block
     * left behind costs storage memory only.
     */
    void removeSeen() {
        for (String name : seen) {
            try {
                blocks.removeAnywhere(name);
            } catch (Exception e) { // also SparkException (the master did not answer), checked, through Scala
                LOG.warn("segment: could not remove block {}: {}", name, e.toString());
            }
        }
        seen.clear();
    }
}
