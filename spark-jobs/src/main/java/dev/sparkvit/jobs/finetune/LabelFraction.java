package dev.sparkvit.jobs.finetune;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.hash;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;

import dev.sparkvit.data.stream.RowFilter;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.apache.spark.unsafe.hash.Murmur3_x86_32;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * The labelled subset {@code data.label_fraction} keeps: the images whose Murmur3 hash of the id (Spark's
 * {@code hash}, seed 42) modulo 1,000,000 is below {@code fraction x 1,000,000}: the same subset in every run and
 * on every cluster, a nested one for smaller fractions. As a Spark column ({@link #column}, the memory input) and on
 * one row ({@link #keeps}, the streamed input); LabelFractionTest checks that both keep the same images.
 */
record LabelFraction(double fraction) implements RowFilter {
    private static final int BUCKETS = 1_000_000;
    private static final int SPARK_HASH_SEED = 42;

    private long below() {
        return Math.round(fraction * BUCKETS);
    }

    /** The filter on a Dataset with an {@code id} column. */
    Column column() {
        return pmod(hash(col("id")), lit(BUCKETS)).lt(below());
    }

    /** Whether the row (column {@code id} first) is kept. */
    @Override
    public boolean keeps(Row row) {
        UTF8String id = UTF8String.fromString(row.getString(0));
        int h = Murmur3_x86_32.hashUnsafeBytes(id.getBaseObject(), id.getBaseOffset(), id.numBytes(),
                SPARK_HASH_SEED);
        return Math.floorMod(h, BUCKETS) < below();
    }
}
