package dev.sparkvit.engine;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.storage.BlockData;
import org.apache.spark.storage.BlockId;
import org.apache.spark.storage.BlockId$;
import org.apache.spark.storage.BlockManager;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.io.ChunkedByteBuffer;
import scala.Option;
import scala.collection.JavaConverters;
import scala.reflect.ClassTag$;

/**
 * Float arrays stored as blocks of bytes (little-endian float32, exact) in this JVM's Spark BlockManager, readable
 * from every executor of the application. This class is the only place where the gradient exchange touches Spark
 * internals (all {@code private[spark]} in Spark 3.1.3, public in the bytecode; docs/ENGINE.md lists them):
 * {@code SparkEnv.blockManager()}, {@code BlockManager.putBytes / getLocalBytes / releaseLock / getRemoteBytes /
 * removeBlock / getMatchingBlockIds / master}, {@code BlockManagerMaster.removeBlock},
 * {@code ChunkedByteBuffer} and {@code BlockData}. Block ids are
 * {@code TestBlockId}s, made by name through {@code BlockId.apply} ({@code "test_" + name}), as DLlib's
 * {@code AllReduceParameter} names its blocks.
 *
 * <ul>
 *   <li>{@link #put} stores {@code MEMORY_AND_DISK_SER} (a block that does not fit in memory goes to disk instead of
 *       failing; like any put it counts against storage memory and may evict other blocks, cached RDD partitions
 *       included) and tells the driver's BlockManagerMaster, synchronously, so that once the put returns any executor
 *       can find the block.</li>
 *   <li>{@link #read} reads a block of this JVM's BlockManager under a read lock owned by the calling task and
 *       releases it before returning; a block found only elsewhere comes through {@code getRemoteBytes} (the master
 *       for its location, then Spark's block transfer service, whose serving side locks and unlocks it).</li>
 *   <li>{@link #remove} waits for readers to finish (Spark's write lock), then removes the block and tells the master.
 *   </li>
 * </ul>
 * Must be used from a Spark task (the locks belong to the task's attempt; Spark releases any a task left at its end)
 * or from the driver ({@link StateBlocks}: its locks are Spark's non-task owner's, released as they are here), by one
 * thread.
 */
final class FloatBlocks {
    /** Every name this class gives starts with it (after Spark's {@code test_}). */
    static final String PREFIX = "test_sparkvit_";
    /** How long a task that finds a peer's block gone waits for the stage to be failed by the peer's reason. */
    static final long ABORT_GRACE_MILLIS = 10_000;
    /** At most this many buffers kept for reuse: an all-reduce over T tasks needs up to 2 T of them at once. */
    private static final int MAX_SPARE = 64;

    private final BlockManager blocks;
    private final boolean alwaysRemote;
    /** The byte buffers of the blocks this object put and has not removed yet, by name. */
    private final Map<String, ByteBuffer> mine = new HashMap<>();
    /** Buffers of removed blocks, reused by the next puts of the same size (no allocation per round). */
    private final ArrayDeque<ByteBuffer> spare = new ArrayDeque<>();

    /** The BlockManager of this JVM; {@code alwaysRemote} reads every block through the transfer service (tests). */
    FloatBlocks(boolean alwaysRemote) {
        this.blocks = SparkEnv.get().blockManager();
        this.alwaysRemote = alwaysRemote;
    }

    /** Stores {@code values[from, from + count)} as block {@code name} (a copy: the array stays the caller's). */
    void put(String name, float[] values, int from, int count) {
        BlockId id = id(name);
        if (mine.containsKey(name) || blocks.getStatus(id).isDefined()) {
            throw new IllegalStateException("block " + id + " already exists: one name per exchange and round");
        }
        ByteBuffer bytes = buffer(Math.multiplyExact(count, Float.BYTES));
        bytes.asFloatBuffer().put(values, from, count);
        mine.put(name, bytes);
        if (!blocks.putBytes(id, new ChunkedByteBuffer(bytes), StorageLevel.MEMORY_AND_DISK_SER(), true,
                ClassTag$.MODULE$.Any())) {
            throw new IllegalStateException("the BlockManager refused block " + id + " (" + bytes.capacity()
                    + " bytes)");
        }
    }

    /** Copies block {@code name}, which must hold exactly {@code count} floats, into {@code into[at, at + count)}. */
    void read(String name, float[] into, int at, int count) {
        BlockId id = id(name);
        if (!alwaysRemote) {
            Option<BlockData> local = blocks.getLocalBytes(id);
            if (local.isDefined()) {
                try {
                    copy(id, local.get().toByteBuffer(), into, at, count);
                } finally {
                    blocks.releaseLock(id, Option.empty());
                }
                return;
            }
        }
        Option<ChunkedByteBuffer> remote = blocks.getRemoteBytes(id);
        if (remote.isEmpty()) {
            awaitStageAbort(ABORT_GRACE_MILLIS);
            throw new IllegalStateException("block " + id + " is on no executor");
        }
        // Spark's fetchBlockSync copies what it received into a heap buffer (or a file segment read into heap
        // chunks): nothing to dispose, the garbage collector frees it
        copy(id, remote.get().toByteBuffer(), into, at, count);
    }

    /**
     * A block a peer task put is gone before this task read it: the peer's executor died, or the peer task failed and
     * its completion listener removed its blocks. In both cases the driver is about to fail the barrier stage for the
     * peer's own reason (its exception, or the lost executor) and kill this task: this waits for that kill, up to
     * {@code graceMillis}, so that the stage does not fail with this task's "is on no executor" instead, which would
     * pass a bug in the peer off as lost executor state (restartable) and train again into the same bug. A kill ends
     * the wait with Spark's {@code TaskKilledException}; after the grace the caller reports the missing block.
     */
    static void awaitStageAbort(long graceMillis) {
        TaskContext context = TaskContext.get();
        if (context == null) {
            return;
        }
        long deadline = System.nanoTime() + graceMillis * 1_000_000L;
        while (System.nanoTime() < deadline) {
            context.killTaskIfInterrupted();
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                context.killTaskIfInterrupted();
                return;
            }
        }
    }

    /**
     * Removes block {@code name}, which this object put, from this JVM's BlockManager, once its readers have released
     * it (local reads and the transfer service's sends hold a read lock until done); its buffer is then nobody's
     * (the memory store drops it, and disposing a heap buffer does nothing) and serves a later put.
     */
    void remove(String name) {
        blocks.removeBlock(id(name), true);
        ByteBuffer bytes = mine.remove(name);
        if (bytes != null && spare.size() < MAX_SPARE) {
            spare.push(bytes);
        }
    }

    /**
     * Removes block {@code name} wherever it is: this JVM's copy at once, once its readers are done; another
     * executor's by a message to it ({@code BlockManagerMaster.removeBlock}, which does not wait). Nothing when no
     * BlockManager holds it. For the driver, which cleans up the blocks of a stage's tasks.
     */
    void removeAnywhere(String name) {
        BlockId id = id(name);
        if (blocks.getStatus(id).isDefined()) {
            blocks.removeBlock(id, true);
        } else {
            blocks.master().removeBlock(id);
        }
        mine.remove(name);
    }

    /** Forgets the buffers kept for reuse (the exchange is over: nothing more will be put). */
    void dropSpareBuffers() {
        spare.clear();
    }

    /** A zero-positioned little-endian buffer of {@code size} bytes: a spare one of that size, or a new one. */
    private ByteBuffer buffer(int size) {
        for (java.util.Iterator<ByteBuffer> it = spare.iterator(); it.hasNext();) {
            ByteBuffer candidate = it.next();
            if (candidate.capacity() == size) {
                it.remove();
                return candidate.clear().order(ByteOrder.LITTLE_ENDIAN);
            }
        }
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The blocks of this class in this JVM's BlockManager, by name without Spark's {@code test_} (for tests). */
    static List<String> stored() {
        scala.collection.Seq<BlockId> ids = SparkEnv.get().blockManager().getMatchingBlockIds(
                (scala.Function1<BlockId, Object>) id -> id.name().startsWith(PREFIX));
        return JavaConverters.seqAsJavaList(ids).stream().map(id -> id.name().substring("test_".length())).toList();
    }

    private static BlockId id(String name) {
        return BlockId$.MODULE$.apply("test_" + name);
    }

    private static void copy(BlockId id, ByteBuffer bytes, float[] into, int at, int count) {
        // a duplicate of the stored buffer comes back in Java's default (big-endian) order
        ByteBuffer ordered = bytes.order(ByteOrder.LITTLE_ENDIAN);
        if (ordered.remaining() != (long) count * Float.BYTES) {
            throw new IllegalStateException("block " + id + " holds " + ordered.remaining() + " bytes, not "
                    + count + " floats");
        }
        ordered.asFloatBuffer().get(into, at, count);
    }
}
