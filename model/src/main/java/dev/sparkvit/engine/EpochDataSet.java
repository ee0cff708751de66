package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.feature.dataset.DistributedDataSet;
import com.intel.analytics.bigdl.dllib.feature.dataset.Sample;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.rdd.RDD;
import org.apache.spark.storage.StorageLevel;

/**
 * A DLlib training dataset that builds its samples afresh every epoch, on the executors, from cached source elements:
 * {@code sample = toSample(epoch, element)}. SimCLR needs this: DLlib's own dataset caches the samples once, so
 * every epoch would see the same augmented views. The order within a partition is a permutation drawn from
 * (seed, epoch, partition), and reading starts at its beginning, so an epoch's sample sequence is reproducible
 * (DLlib's dataset starts at an offset drawn from an unseeded generator).
 *
 * <p>Before every segment {@link BarrierSegment} positions the dataset ({@link #startAt}) and, at an epoch's start,
 * calls {@link #shuffle()}, which advances the epoch counter; each barrier task then opens one iterator over
 * {@code data(true)} and reads the segment's batches from its partition's endless stream. The read position of each
 * (start, epoch, partition) is kept on the executor, so a second iterator opened there on the same start continues
 * where the first stopped. DLlib's own dataset instead starts every iteration at a random offset.
 *
 * @param <E> the cached source element (for example a stored image row)
 */
public final class EpochDataSet<E> implements DistributedDataSet<Sample<Float>> {
    private static final long serialVersionUID = 1L;

    /** Builds the sample of one element for one epoch; must depend on nothing else. */
    @FunctionalInterface
    public interface EpochFunction<E> extends Serializable {
        Sample<Float> apply(int epoch, E element) throws Exception;
    }

    /**
     * Builds the sample at {@code position} of a partition's endless stream in an epoch, given the element at any
     * position ({@code elementAt}); for samples made of several elements (mixup and cutmix of a batch's images).
     * Must depend on nothing else.
     */
    @FunctionalInterface
    public interface SequenceFunction<E> extends Serializable {
        Sample<Float> apply(int epoch, int partition, long position, java.util.function.LongFunction<E> elementAt)
                throws Exception;
    }

    private final JavaRDD<List<E>> partitions;
    private final SequenceFunction<E> toSample;
    private final long seed;
    private final long size;
    private final String id = java.util.UUID.randomUUID().toString();
    private int epoch = -1;
    private boolean cached;
    /** Where the iterators of {@link #startEpoch} begin reading, per partition; set by {@link #startAt}. */
    private int startEpoch = -1;
    private long startPosition;
    /** Changes with every {@link #startAt}, so executor-side positions of an earlier start are never reused. */
    private int start;

    /**
     * @param source elements, repartitioned here to {@code partitionCount} partitions (the barrier engine wants one
     *     per task)
     */
    public EpochDataSet(JavaRDD<E> source, int partitionCount, EpochFunction<E> toSample, long seed) {
        this(source, partitionCount, seed, (epoch, partition, position, at) -> toSample.apply(epoch,
                at.apply(position)));
    }

    /** A dataset whose samples may combine several elements of a partition's stream (see {@link SequenceFunction}). */
    public static <E> EpochDataSet<E> sequenced(JavaRDD<E> source, int partitionCount, SequenceFunction<E> toSample,
            long seed) {
        return new EpochDataSet<>(source, partitionCount, seed, toSample);
    }

    private EpochDataSet(JavaRDD<E> source, int partitionCount, long seed, SequenceFunction<E> toSample) {
        this.partitions = deterministicPartitions(source, partitionCount).persist(StorageLevel.MEMORY_AND_DISK());
        this.toSample = toSample;
        this.seed = seed;
        this.size = partitions.map(List::size).reduce(Integer::sum);
        if (size == 0) {
            throw new IllegalArgumentException("the training data is empty");
        }
    }

    /**
     * Positions the dataset for a segment that starts after {@code recordsInEpoch} records of epoch {@code epoch}
     * (0-based). At the beginning of an epoch the dataset is left one epoch behind, and the caller's {@link #shuffle()}
     * enters the epoch; otherwise each partition resumes at {@code recordsInEpoch / partitions}, the records it has
     * served (each iteration takes batch / partitions from every partition). Training in several segments, or after a
     * restart, thus reads exactly the sequence one uninterrupted run would.
     *
     * @throws IllegalArgumentException when the records are not a whole number of per-partition slices
     */
    public void startAt(int epoch, long recordsInEpoch) {
        int partitionCount = partitions.getNumPartitions();
        if (epoch < 0 || recordsInEpoch < 0 || recordsInEpoch % partitionCount != 0) {
            throw new IllegalArgumentException("cannot resume at epoch " + epoch + " after " + recordsInEpoch
                    + " records: expected epoch >= 0 and a multiple of the " + partitionCount + " partitions");
        }
        this.epoch = recordsInEpoch == 0 ? epoch - 1 : epoch;
        this.startEpoch = epoch;
        this.startPosition = recordsInEpoch / partitionCount;
        this.start++;
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

    /** The epoch the next {@link #data} call serves (0 after the first shuffle). */
    public int epoch() {
        return epoch;
    }

    @Override
    public RDD<Sample<Float>> data(boolean train) {
        int current = Math.max(epoch, 0);
        long s = seed;
        SequenceFunction<E> f = toSample;
        String datasetId = id + "#" + start;
        long first = current == startEpoch ? startPosition : 0;
        return partitions.mapPartitionsWithIndex((index, lists) -> {
            List<E> elements = lists.hasNext() ? lists.next() : new ArrayList<>();
            int[] order = permutation(elements.size(), new SplittableRandom(mix(s, current, index)));
            AtomicLong position = train ? Positions.of(datasetId, current, index, first) : new AtomicLong();
            return new EpochIterator<>(elements, order, train, current, index, f, position);
        }, true).rdd();
    }

    /** The number of cached elements in each partition, without building a sample. */
    JavaRDD<Integer> partitionSizes() {
        return partitions.map(List::size);
    }

    @Override
    public void shuffle() {
        epoch++;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public RDD<?> originRDD() {
        return partitions.rdd();
    }

    @Override
    public boolean isCached() {
        return cached;
    }

    @Override
    public void isCached_$eq(boolean value) {
        cached = value;
    }

    static int[] permutation(int n, SplittableRandom random) {
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

    private static long mix(long seed, int epoch, int partition) {
        long z = seed ^ (0x9e3779b97f4a7c15L * (epoch + 1)) ^ (0xc2b2ae3d27d4eb4fL * (partition + 1));
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** Executor-side read positions of the training iterators, one per (dataset, epoch, partition). */
    private static final class Positions {
        private static final java.util.concurrent.ConcurrentHashMap<String, AtomicLong> BY_KEY =
                new java.util.concurrent.ConcurrentHashMap<>();

        static AtomicLong of(String dataset, int epoch, int partition, long first) {
            String prefix = dataset + "/" + partition + "/";
            String base = dataset.substring(0, dataset.lastIndexOf('#') + 1);
            // an epoch's position is never needed again once the next epoch (or a new start) begins
            BY_KEY.keySet().removeIf(key -> key.startsWith(base) && key.contains("/" + partition + "/")
                    && !key.equals(prefix + epoch));
            return BY_KEY.computeIfAbsent(prefix + epoch, key -> new AtomicLong(first));
        }
    }

    /** One pass in permuted order (evaluation), or an endless cycle over it (training). */
    private static final class EpochIterator<E> implements Iterator<Sample<Float>> {
        private final List<E> elements;
        private final int[] order;
        private final boolean endless;
        private final int epoch;
        private final int partition;
        private final SequenceFunction<E> toSample;
        private final AtomicLong position;

        EpochIterator(List<E> elements, int[] order, boolean endless, int epoch, int partition,
                SequenceFunction<E> toSample, AtomicLong position) {
            this.elements = elements;
            this.order = order;
            this.endless = endless;
            this.epoch = epoch;
            this.partition = partition;
            this.toSample = toSample;
            this.position = position;
        }

        @Override
        public boolean hasNext() {
            return !elements.isEmpty() && (endless || position.get() < elements.size());
        }

        @Override
        public Sample<Float> next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            long at = position.getAndIncrement();
            try {
                return toSample.apply(epoch, partition, at, p -> elements.get(order[(int) (p % order.length)]));
            } catch (Exception e) {
                throw new IllegalStateException("cannot build the sample of epoch " + epoch + ": " + e.getMessage(), e);
            }
        }
    }
}
