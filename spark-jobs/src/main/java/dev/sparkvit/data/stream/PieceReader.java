package dev.sparkvit.data.stream;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import java.util.function.ObjLongConsumer;
import org.apache.spark.sql.Row;

/**
 * Reads a partition's inputs of one epoch ({@link EpochLayout}) in order, one data file open at a time, and can pass
 * over inputs without keeping them ({@link #skipTo}): row groups holding none of the rows asked for are not read.
 */
final class PieceReader implements Closeable {
    private final StreamPlan plan;
    private final List<EpochLayout.Piece> pieces;
    private int piece = -1;
    private StoredRowReader file;
    private int openFile = -1;
    /** Rows of the current piece served or passed so far. */
    private long inPiece;
    private long next;

    PieceReader(StreamPlan plan, EpochLayout layout) {
        this.plan = plan;
        this.pieces = layout.pieces();
    }

    /** The input the next {@link #next} serves. */
    long position() {
        return next;
    }

    /** The next input's row. */
    Row next() {
        while (piece < 0 || inPiece == pieces.get(piece).take()) {
            enter(piece + 1);
        }
        Row row = file.next();
        if (row == null) {
            throw new IllegalStateException("data file " + plan.files().get(pieces.get(piece).file()).path()
                    + " changed under the stream: row group " + pieces.get(piece).group() + " has fewer rows than "
                    + "counted");
        }
        inPiece++;
        next++;
        return row;
    }

    /**
     * Moves to input {@code target}, handing {@code keep} the row of every passed input in {@code wanted} (sorted);
     * row groups without one are skipped unread.
     */
    void skipTo(long target, long[] wanted, ObjLongConsumer<Row> keep) {
        while (next < target) {
            if (piece < 0 || inPiece == pieces.get(piece).take()) {
                EpochLayout.Piece upcoming = pieces.get(piece + 1);
                long end = upcoming.first() + upcoming.take();
                if (end <= target && !anyIn(wanted, upcoming.first(), end)) {
                    passUnread(piece + 1);
                    continue;
                }
            }
            long index = next;
            Row row = next();
            if (Arrays.binarySearch(wanted, index) >= 0) {
                keep.accept(row, index);
            }
        }
    }

    private static boolean anyIn(long[] sorted, long from, long to) {
        int i = Arrays.binarySearch(sorted, from);
        int at = i >= 0 ? i : -i - 1;
        return at < sorted.length && sorted[at] < to;
    }

    /** Passes piece {@code index} without reading its row group. */
    private void passUnread(int index) {
        EpochLayout.Piece p = pieces.get(index);
        position(p);
        file.skipGroup();
        piece = index;
        inPiece = p.take();
        next = p.first() + p.take();
    }

    /** Opens piece {@code index}'s row group and passes the rows before its share. */
    private void enter(int index) {
        if (index >= pieces.size()) {
            throw new IllegalStateException("the partition's inputs end at " + next);
        }
        EpochLayout.Piece p = pieces.get(index);
        position(p);
        try {
            file.openGroup();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read data file " + plan.files().get(p.file()).path(), e);
        }
        for (long s = 0; s < p.skip(); s++) {
            if (file.next() == null) {
                throw new IllegalStateException("data file " + plan.files().get(p.file()).path() + " changed under "
                        + "the stream");
            }
        }
        piece = index;
        inPiece = 0;
    }

    /** Opens the piece's file when another is open, and skips to the row group before the piece's. */
    private void position(EpochLayout.Piece p) {
        try {
            if (openFile != p.file()) {
                close();
                file = plan.open(p.file());
                openFile = p.file();
            }
            while (file.nextGroup() < p.group()) {
                file.skipGroup();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read data file " + plan.files().get(p.file()).path(), e);
        }
    }

    @Override
    public void close() {
        if (file != null) {
            try {
                file.close();
            } catch (IOException ignored) {
                // read-only
            }
            file = null;
            openFile = -1;
        }
    }
}
