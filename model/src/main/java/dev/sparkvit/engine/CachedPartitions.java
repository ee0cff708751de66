package dev.sparkvit.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.rdd.RDD;
import org.apache.spark.storage.StorageLevel;

/**
 * The elements of each partition held as one list, persisted MEMORY_AND_DISK (the {@code data.input: memory} training
 * input): element i of the source (in its order) goes to partition {@code i % partitions}, and each epoch reads a
 * partition in a permutation drawn from (seed, epoch, partition). Needs every partition to fit an executor's heap.
 *
 * @param <E> the cached element
 */
public final class CachedPartitions<E> implements EpochSource<E> {
    private static final long serialVersionUID = 1L;

    private final JavaRDD<List<E>> partitions;
    private final long seed;
    private final long size;

    /**
     * @param source elements, repartitioned here to {@code partitionCount} partitions (the barrier engine wants one
     *     per task)
     */
    public CachedPartitions(JavaRDD<E> source, int partitionCount, long seed) {
        this.partitions = deterministicPartitions(source, partitionCount).persist(StorageLevel.MEMORY_AND_DISK());
        this.seed = seed;
        this.size = partitions.map(List::size).reduce(Integer::sum);
    }

    /**
     * Element i of {@code source} (in its order) goes to partition {@code i % partitionCount}, in increasing i: unlike
     * {@code repartition}, whose order within a partition follows the arrival of shuffle blocks and differed between
     * two cluster runs of the same seed.
     */
    private static <E> JavaRDD<List<E>> deterministicPartitions(JavaRDD<E> source, int partitionCount) {
        return source.zipWithIndex()
                .mapToPair(t -> new scala.Tuple2<>(t._2(), t._1()))
                .partitionBy(new org.apache.spark.HashPartitioner(partitionCount))
                .mapPartitions(pairs -> {
                    List<scala.Tuple2<Long, E>> sorted = new ArrayList<>();
                    pairs.forEachRemaining(sorted::add);
                    sorted.sort(java.util.Comparator.comparingLong(scala.Tuple2::_1));
                    List<E> elements = new ArrayList<>(sorted.size());
                    sorted.forEach(t -> elements.add(t._2()));
                    return List.of(elements).iterator();
                }, true);
    }

    @Override
    public RDD<?> origin() {
        return partitions.rdd();
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public <T> JavaRDD<T> perPartition(int epoch, PartitionFunction<E, T> f) {
        long s = seed;
        return partitions.mapPartitionsWithIndex((index, lists) -> {
            List<E> elements = lists.hasNext() ? lists.next() : new ArrayList<>();
            int[] order = permutation(elements.size(), new SplittableRandom(mix(s, epoch, index)));
            return f.apply(index, new Sequence<E>() {
                @Override
                public long length() {
                    return elements.size();
                }

                @Override
                public E at(long position) {
                    return elements.get(order[(int) (position % order.length)]);
                }
            });
        }, true);
    }

    /** A uniform permutation of 0..n-1 (Fisher-Yates) drawn from {@code random}. */
    public static int[] permutation(int n, SplittableRandom random) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    /** A well-mixed 64-bit seed of (seed, epoch, partition) (SplitMix64's finaliser). */
    public static long mix(long seed, int epoch, int partition) {
        long z = seed ^ (0x9e3779b97f4a7c15L * (epoch + 1)) ^ (0xc2b2ae3d27d4eb4fL * (partition + 1));
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
