package dev.sparkvit.data.stream;

import dev.sparkvit.engine.CachedPartitions;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Which rows one partition reads in one epoch, in reading order: the snapshot's data files in a permutation drawn from
 * (seed, epoch), concatenated into one sequence of N rows, of which partition p of P takes the contiguous range
 * {@code [p N / P, (p + 1) N / P)} (shares within one row of each other; every row read once per epoch over all
 * partitions). The range is a list of {@link Piece}s, one per row group it touches.
 */
final class EpochLayout {
    /**
     * Rows {@code [skip, skip + take)} (counted among the rows the stream takes) of row group {@code group} of file
     * {@code file} (its index in the plan), which are the partition's inputs {@code [first, first + take)}.
     */
    record Piece(int file, int group, long skip, long take, long first) {
    }

    private final List<Piece> pieces;
    private final long length;

    private EpochLayout(List<Piece> pieces, long length) {
        this.pieces = pieces;
        this.length = length;
    }

    static EpochLayout of(List<DataFileRows> files, long seed, int epoch, int partitions, int partition) {
        long total = 0;
        for (DataFileRows f : files) {
            total += f.rows();
        }
        long from = share(total, partition, partitions);
        long to = share(total, partition + 1, partitions);
        List<Piece> pieces = new ArrayList<>();
        long offset = 0;
        for (int file : fileOrder(files.size(), seed, epoch)) {
            long[] groups = files.get(file).rowGroups();
            for (int g = 0; g < groups.length && offset < to; g++) {
                long start = Math.max(from, offset);
                long end = Math.min(to, offset + groups[g]);
                if (start < end) {
                    pieces.add(new Piece(file, g, start - offset, end - start, start - from));
                }
                offset += groups[g];
            }
        }
        return new EpochLayout(List.copyOf(pieces), to - from);
    }

    /** {@code floor(total * k / parts)} without overflow. */
    private static long share(long total, int k, int parts) {
        return total / parts * k + total % parts * k / parts;
    }

    /** The order of the plan's files in epoch {@code epoch}. */
    static int[] fileOrder(int files, long seed, int epoch) {
        return CachedPartitions.permutation(files, new SplittableRandom(CachedPartitions.mix(seed ^ 0x5bd1e995L,
                epoch, -1)));
    }

    List<Piece> pieces() {
        return pieces;
    }

    /** The partition's rows in the epoch. */
    long length() {
        return length;
    }
}
