package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.feature.dataset.DistributedDataSet;
import com.intel.analytics.bigdl.dllib.feature.dataset.MiniBatch;
import com.intel.analytics.bigdl.dllib.feature.dataset.Sample;
import com.intel.analytics.bigdl.dllib.feature.dataset.SampleToMiniBatch;
import com.intel.analytics.bigdl.dllib.feature.dataset.SampleToMiniBatch$;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.tensor.TensorNumericMath;
import org.apache.spark.rdd.RDD;
import scala.collection.Seq;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * The mini-batches a {@link BarrierSegment} trains on, from an {@link EpochDataSet}: {@code data(true)} batches the
 * epoch's samples (DLlib's SampleToMiniBatch, {@code batchSize / partitions} samples per partition and iteration).
 *
 * <p>{@code data(false)} answers with one {@link RecordCount} per partition, the size of its cached elements, without
 * building a sample (DLlib's DistriOptimizer read it once per {@code optimize()} only to count the records). The
 * barrier segment reads {@code data(true)} only.
 */
final class EpochBatches implements DistributedDataSet<MiniBatch<Float>> {
    private static final long serialVersionUID = 1L;

    private final EpochDataSet<?> samples;
    private final DistributedDataSet<MiniBatch<Float>> batches;

    @SuppressWarnings("unchecked")
    EpochBatches(EpochDataSet<?> samples, int batchSize, int partitions) {
        this.samples = samples;
        // parallelizing = true: each of the partitions builds batchSize / partitions samples per iteration. With false
        // every partition builds a whole batch and a two-executor cluster trains on twice the batch (seen on the
        // standalone cluster: 128 records per iteration for a batch of 64; local mode has one partition)
        SampleToMiniBatch<Float> toBatches = SampleToMiniBatch$.MODULE$.apply(batchSize, scala.Option.empty(),
                scala.Option.empty(), scala.Option.apply((Object) partitions), true, FloatTypes.TAG,
                FloatTypes.NUMERIC);
        ClassTag<MiniBatch<Float>> tag = (ClassTag<MiniBatch<Float>>) (ClassTag<?>) ClassTag$.MODULE$.apply(
                MiniBatch.class);
        this.batches = (DistributedDataSet<MiniBatch<Float>>) samples.transform(toBatches, tag).toDistributed();
    }

    /** Training: the epoch's batches. Otherwise one record count per partition (see the class comment). */
    @Override
    @SuppressWarnings("unchecked")
    public RDD<MiniBatch<Float>> data(boolean train) {
        if (train) {
            return (RDD<MiniBatch<Float>>) batches.data(true);
        }
        return samples.partitionSizes().map(size -> (MiniBatch<Float>) new RecordCount(size)).rdd();
    }

    @Override
    public void shuffle() {
        batches.shuffle();
    }

    @Override
    public long size() {
        return batches.size();
    }

    @Override
    public RDD<?> originRDD() {
        return batches.originRDD();
    }

    @Override
    public boolean isCached() {
        return batches.isCached();
    }

    @Override
    public void isCached_$eq(boolean value) {
        batches.isCached_$eq(value);
    }

    @Override
    public DistributedDataSet<MiniBatch<Float>> toDistributed() {
        return this;
    }

    /** The records of a partition, standing in for its batches in {@code data(false)}, which only counts them. */
    static final class RecordCount implements MiniBatch<Float> {
        private static final long serialVersionUID = 1L;
        private final int records;

        RecordCount(int records) {
            this.records = records;
        }

        @Override
        public int size() {
            return records;
        }

        private static UnsupportedOperationException notABatch() {
            return new UnsupportedOperationException("sparkvit's EpochBatches.data(false) counts records and holds "
                    + "no data; train with data(true)");
        }

        @Override
        public MiniBatch<Float> slice(int offset, int length) {
            throw notABatch();
        }

        @Override
        public Activity getInput() {
            throw notABatch();
        }

        @Override
        public Activity getTarget() {
            throw notABatch();
        }

        @Override
        public MiniBatch<Float> set(Seq<Sample<Float>> samples, TensorNumericMath.TensorNumeric<Float> ev) {
            throw notABatch();
        }
    }
}
