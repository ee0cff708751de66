package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.rdd.RDD;
import org.apache.spark.storage.StorageLevel;

/**
 * The per-partition optimisation methods of a resumed run as the RDD DistriOptimizer zips with its cached models
 * ({@code previousOptim}), built so that no task carries them.
 *
 * <p>DistriOptimizer zips this RDD into the models RDD of every job of every iteration, and Spark serializes each
 * parent's partition object into every task. A {@code parallelize}d list keeps its elements in its partition
 * objects: with the methods' moments (AdamW: two floats per parameter, plus a gradient-accumulation buffer) every task
 * of a resumed run carried them, 1.6 MB per task for a 139k-parameter model and about 43 MB for vit_tiny. Here the
 * methods travel once, in a broadcast, and each partition takes a deep copy of its own (the same fresh instances a
 * deserialized partition gave) where the training data's partition lives, so it sits beside the cached models.
 */
final class RestoredMethods {
    private RestoredMethods() {
    }

    /**
     * The cached RDD and the broadcast it was built from. Never destroy the broadcast while training goes on: every
     * later methods RDD of DistriOptimizer has this RDD in its lineage, and Spark serializes the broadcast's handle
     * with it; {@code unpersist()} frees the executors' copies.
     */
    record Cached(RDD<scala.collection.immutable.Map<String, OptimMethod<Float>>> rdd,
            Broadcast<List<Map<String, OptimMethod<Float>>>> source) {
    }

    /**
     * One partition per element of {@code methods}, partitioned as {@code origin} (the training data's cached
     * partitions, one per executor), cached as objects and materialised: DLlib re-reads this RDD every iteration and
     * must get the same instances back, as with its own {@code previousOptim}.
     */
    static Cached of(RDD<?> origin, List<Map<String, OptimMethod<Float>>> methods) {
        if (origin.getNumPartitions() != methods.size()) {
            throw new IllegalArgumentException("resume needs one set of optimisation methods per partition: got "
                    + methods.size() + " for " + origin.getNumPartitions() + " partitions");
        }
        List<Map<String, OptimMethod<Float>>> copy = new ArrayList<>();
        for (Map<String, OptimMethod<Float>> partition : methods) {
            copy.add(new LinkedHashMap<>(partition));
        }
        Broadcast<List<Map<String, OptimMethod<Float>>>> shared = JavaSparkContext.fromSparkContext(
                origin.sparkContext()).broadcast(copy);
        RDD<scala.collection.immutable.Map<String, OptimMethod<Float>>> rdd = origin.toJavaRDD()
                .mapPartitionsWithIndex((index, ignored) -> {
                    Map<String, OptimMethod<Float>> own = new LinkedHashMap<>();
                    // a copy: in local mode the broadcast value is the driver's own object
                    shared.value().get(index).forEach((name, method) -> own.put(name, method.clone()));
                    return List.of(ScalaCollections.immutableMap(own)).iterator();
                }, true)
                .rdd();
        rdd.setName("sparkvit restored optimisation methods");
        rdd.persist(StorageLevel.MEMORY_ONLY());
        rdd.count();
        return new Cached(rdd, shared);
    }
}
