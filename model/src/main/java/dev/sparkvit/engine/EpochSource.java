package dev.sparkvit.engine;

import java.io.Serializable;
import java.util.Iterator;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.rdd.RDD;

/**
 * Where an {@link EpochDataSet}'s elements come from: one partition per barrier task, and in each partition, for each
 * epoch, a sequence of elements in that epoch's order. {@link CachedPartitions} holds each partition as one list in
 * memory and permutes it; a streamed source reads the dataset's files through a bounded shuffle buffer.
 *
 * @param <E> the source element (for example a stored image row)
 */
public interface EpochSource<E> extends Serializable {

    /** One partition's elements in one epoch, read on the executor that builds the partition's samples. */
    interface Sequence<E> {
        /** The elements of one pass (the partition's share of the epoch). */
        long length();

        /**
         * The element at {@code position} of the partition's endless stream: position {@code p} is element
         * {@code p mod length()} of the epoch's order (the stream wraps to the same order). Positions are asked in
         * increasing order but for a small window behind the newest (the chunk of a micro-batch whose elements are
         * mixed); a source may serve an older position by reading again.
         */
        E at(long position);
    }

    /** What a partition's task does with its sequence (runs on the executor). */
    @FunctionalInterface
    interface PartitionFunction<E, T> extends Serializable {
        Iterator<T> apply(int partition, Sequence<E> elements) throws Exception;
    }

    /** The RDD whose partitions (one per barrier task) the samples are built in. */
    RDD<?> origin();

    /** The elements of one epoch, over all partitions. */
    long size();

    /** {@code f} applied on the executors to each partition's sequence of epoch {@code epoch}. */
    <T> JavaRDD<T> perPartition(int epoch, PartitionFunction<E, T> f);
}
