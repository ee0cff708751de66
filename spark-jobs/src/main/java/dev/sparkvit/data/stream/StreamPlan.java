package dev.sparkvit.data.stream;

import dev.sparkvit.data.ingest.HadoopConf;
import java.io.IOException;
import java.io.Serializable;
import java.util.List;

/**
 * What every task of a stream needs: the snapshot's data files with their row counts per row group, the columns, split
 * and filter of the rows served, the seed, and the shuffle buffer's and mixing window's sizes (rows).
 */
record StreamPlan(List<DataFileRows> files, String[] columns, String split, RowFilter filter, HadoopConf conf,
        long seed, int bufferRows, int window) implements Serializable {

    long rows() {
        long n = 0;
        for (DataFileRows f : files) {
            n += f.rows();
        }
        return n;
    }

    /** A reader of file {@code index}'s rows, pixels included. */
    StoredRowReader open(int index) throws IOException {
        return new StoredRowReader(conf.get(), files.get(index).path(), columns, split, filter, true);
    }
}
