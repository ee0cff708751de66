package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.feature.dataset.DistributedDataSet;
import com.intel.analytics.bigdl.dllib.feature.dataset.Sample;
import java.io.Serializable;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.rdd.RDD;

/**
 * A DLlib training dataset that builds its samples afresh every epoch, on the executors, from source elements:
 * {@code sample = toSample(epoch, element)}. SimCLR needs this: DLlib's own dataset caches the samples once, so
 * every epoch would see the same augmented views. The elements come from an {@link EpochSource}: cached in memory
 * ({@link CachedPartitions}: the order within a partition is a permutation drawn from (seed, epoch, partition)), or
 * streamed from the dataset's files; either way reading starts at the epoch order's beginning, so an epoch's sample
 * sequence is reproducible (DLlib's dataset starts at an offset drawn from an unseeded generator).
 *
 * <p>Before every segment {@link BarrierSegment} positions the dataset ({@link #startAt}) and, at an epoch's start,
 * calls {@link #shuffle()}, which advances the epoch counter; each barrier task then opens one iterator over
 * {@code data(true)} and reads the segment's batches from its partition's endless stream. The read position of each
 * (start, epoch, partition) is kept on the executor, so a second iterator opened there on the same start continues
 * where the first stopped. DLlib's own dataset instead starts every iteration at a random offset.
 *
 * @param <E> the source element (for example a stored image row)
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

    private final EpochSource<E> source;
    private final SequenceFunction<E> toSample;
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
     * Elements cached in memory ({@link CachedPartitions}).
     *
     * @param source elements, repartitioned here to {@code partitionCount} partitions (the barrier engine wants one
     *     per task)
     */
    public EpochDataSet(JavaRDD<E> source, int partitionCount, EpochFunction<E> toSample, long seed) {
        this(new CachedPartitions<>(source, partitionCount, seed), (epoch, partition, position, at) -> toSample.apply(
                epoch, at.apply(position)));
    }

    /** A dataset whose samples may combine several elements of a partition's stream (see {@link SequenceFunction}). */
    public static <E> EpochDataSet<E> sequenced(JavaRDD<E> source, int partitionCount, SequenceFunction<E> toSample,
            long seed) {
        return new EpochDataSet<>(new CachedPartitions<>(source, partitionCount, seed), toSample);
    }

    /** A dataset of {@code source}'s elements (cached or streamed), one sample each. */
    public static <E> EpochDataSet<E> of(EpochSource<E> source, EpochFunction<E> toSample) {
        return new EpochDataSet<>(source, (epoch, partition, position, at) -> toSample.apply(epoch,
                at.apply(position)));
    }

    /** A dataset of {@code source}'s elements whose samples may combine several of them ({@link SequenceFunction}). */
    public static <E> EpochDataSet<E> sequenced(EpochSource<E> source, SequenceFunction<E> toSample) {
        return new EpochDataSet<>(source, toSample);
    }

    private EpochDataSet(EpochSource<E> source, SequenceFunction<E> toSample) {
        this.source = source;
        this.toSample = toSample;
        this.size = source.size();
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
        int partitionCount = source.origin().getNumPartitions();
        if (epoch < 0 || recordsInEpoch < 0 || recordsInEpoch % partitionCount != 0) {
            throw new IllegalArgumentException("cannot resume at epoch " + epoch + " after " + recordsInEpoch
                    + " records: expected epoch >= 0 and a multiple of the " + partitionCount + " partitions");
        }
        this.epoch = recordsInEpoch == 0 ? epoch - 1 : epoch;
        this.startEpoch = epoch;
        this.startPosition = recordsInEpoch / partitionCount;
        this.start++;
    }

    /** The epoch the next {@link #data} call serves (0 after the first shuffle). */
    public int epoch() {
        return epoch;
    }

    @Override
    public RDD<Sample<Float>> data(boolean train) {
        int current = Math.max(epoch, 0);
        SequenceFunction<E> f = toSample;
        String datasetId = id + "#" + start;
        long first = current == startEpoch ? startPosition : 0;
        return source.perPartition(current, (index, elements) -> {
            AtomicLong position = train ? Positions.of(datasetId, current, index, first) : new AtomicLong();
            return (Iterator<Sample<Float>>) new EpochIterator<>(elements, train, current, index, f, position);
        }).rdd();
    }

    /** The number of elements in each partition's pass, without building a sample. */
    JavaRDD<Integer> partitionSizes() {
        return source.perPartition(Math.max(epoch, 0), (index, elements) -> List.of((int) elements.length())
                .iterator());
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
        return source.origin();
    }

    @Override
    public boolean isCached() {
        return cached;
    }

    @Override
    public void isCached_$eq(boolean value) {
        cached = value;
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

    /** One pass in the epoch's order (evaluation), or the endless stream (training). */
    private static final class EpochIterator<E> implements Iterator<Sample<Float>> {
        private final EpochSource.Sequence<E> elements;
        private final long length;
        private final boolean endless;
        private final int epoch;
        private final int partition;
        private final SequenceFunction<E> toSample;
        private final AtomicLong position;

        EpochIterator(EpochSource.Sequence<E> elements, boolean endless, int epoch, int partition,
                SequenceFunction<E> toSample, AtomicLong position) {
            this.elements = elements;
            this.length = elements.length();
            this.endless = endless;
            this.epoch = epoch;
            this.partition = partition;
            this.toSample = toSample;
            this.position = position;
        }

        @Override
        public boolean hasNext() {
            return length > 0 && (endless || position.get() < length);
        }

        @Override
        public Sample<Float> next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            long at = position.getAndIncrement();
            try {
                return toSample.apply(epoch, partition, at, elements::at);
            } catch (Exception e) {
                throw new IllegalStateException("cannot build the sample of epoch " + epoch + ": " + e.getMessage(), e);
            }
        }
    }
}
