package dev.sparkvit.engine;

import java.util.List;
import java.util.regex.Pattern;
import org.apache.spark.SparkEnv;
import org.apache.spark.rdd.RDD;
import org.apache.spark.storage.BlockId;
import org.apache.spark.storage.BlockInfo;
import org.apache.spark.storage.BlockInfoManager;
import org.apache.spark.storage.BlockManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.JavaConverters;

/**
 * Frees the BlockManager blocks DLlib's {@code AllReduceParameter} leaves on every executor after a training segment.
 *
 * <p>Each {@code optimize()} creates a new {@code AllReduceParameter} (a new id) and puts, per partition, its chunk of
 * the float32 master weights and of the averaged gradient ({@code MEMORY_AND_DISK}) and the fp16 weights and
 * gradients in transit. Nothing ever removes them, and DLlib reads the chunks with {@code getLocalValues} on its
 * pooled threads, whose read locks (owner: Spark's non-task id) it never releases, so Spark cannot evict them either.
 * With one segment per checkpoint that is about 64 MB per segment for vit_tiny (5.4M parameters) in local mode: a
 * 2 GB driver ran out of heap after 9 checkpoints of a resumed run (docs/ENGINE.md, "Parameter blocks").
 *
 * <p>Between segments no DLlib thread reads them (the next segment builds a new parameter), so each executor drops
 * the non-task read locks on those blocks, and only those, and removes them. A block still locked by anything else
 * is left alone.
 */
public final class ParameterBlocks {
    /** DLlib's block names: TestBlockId "test_" + id + weights/gradients/weightBytes + partition, gradientBytes. */
    static final Pattern NAME = Pattern.compile(
            "test_\\d+(?:_\\d+)?(?:weights|gradients|weightBytes|gradientBytes)\\d+");
    private static final Logger LOG = LoggerFactory.getLogger(ParameterBlocks.class);

    private ParameterBlocks() {
    }

    /**
     * Runs {@link #releaseHere()} in one task per partition of {@code placement}: the training data's cached RDD,
     * one partition on each executor, where DLlib put the blocks. Returns the number of blocks removed.
     */
    static long release(RDD<?> placement) {
        return placement.toJavaRDD().mapPartitions(ignored -> List.of(releaseHere()).iterator()).reduce(Long::sum);
    }

    /** Removes every parameter block of this JVM's BlockManager that nothing but DLlib's leaked locks holds. */
    static long releaseHere() {
        BlockManager blocks = SparkEnv.get().blockManager();
        BlockInfoManager infos = blocks.blockInfoManager();
        List<BlockId> ids = JavaConverters.seqAsJavaList(blocks.getMatchingBlockIds(
                (scala.Function1<BlockId, Object>) id -> NAME.matcher(id.name()).matches()));
        long nonTask = org.apache.spark.storage.BlockInfo$.MODULE$.NON_TASK_WRITER();
        scala.Option<Object> owner = scala.Option.apply(nonTask);
        long removed = 0;
        for (BlockId id : ids) {
            // BlockInfoManager's methods synchronize on it: nothing can lock the block between the check and removal
            synchronized (infos) {
                scala.Option<BlockInfo> found = infos.get(id);
                if (found.isEmpty()) {
                    continue;
                }
                BlockInfo info = found.get();
                if (info.writerTask() != org.apache.spark.storage.BlockInfo$.MODULE$.NO_WRITER()) {
                    continue;
                }
                int held = heldByNonTask(infos, id, nonTask);
                for (int i = 0; i < held; i++) {
                    infos.unlock(id, owner);
                }
                if (info.readerCount() != 0) {
                    LOG.warn("sparkvit: DLlib parameter block {} is still read by {} task(s); left in place", id,
                            info.readerCount());
                    continue;
                }
                blocks.removeBlock(id, true);
                removed++;
            }
        }
        return removed;
    }

    /** How many read locks the non-task owner holds on {@code id} (Spark keeps a count per owner and block). */
    private static int heldByNonTask(BlockInfoManager infos, BlockId id, long nonTask) {
        try {
            java.lang.reflect.Field field = BlockInfoManager.class.getDeclaredField("readLocksByTask");
            field.setAccessible(true);
            // a HashMap of owner to Spark's shaded Guava ConcurrentHashMultiset of block ids
            scala.collection.mutable.HashMap<?, ?> byTask = (scala.collection.mutable.HashMap<?, ?>) field.get(infos);
            @SuppressWarnings("unchecked")
            scala.Option<Object> counts = ((scala.collection.mutable.HashMap<Object, Object>) byTask).get(nonTask);
            if (counts.isEmpty()) {
                return 0;
            }
            Object multiset = counts.get();
            return (Integer) multiset.getClass().getMethod("count", Object.class).invoke(multiset, id);
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new IllegalStateException("Spark's BlockInfoManager changed: cannot count DLlib's read locks", e);
        }
    }
}
