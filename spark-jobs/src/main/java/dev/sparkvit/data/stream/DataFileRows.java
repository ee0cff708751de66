package dev.sparkvit.data.stream;

import java.io.Serializable;

/**
 * One data file of a snapshot and the rows a stream takes from each of its Parquet row groups (after the split and
 * the filter): what the driver knows of the dataset, O(row groups), never the rows.
 */
record DataFileRows(String path, long[] rowGroups) implements Serializable {
    long rows() {
        long n = 0;
        for (long r : rowGroups) {
            n += r;
        }
        return n;
    }
}
