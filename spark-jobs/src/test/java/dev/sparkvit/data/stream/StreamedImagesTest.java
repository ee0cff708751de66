package dev.sparkvit.data.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.ingest.DatasetSnapshot;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.data.table.DatasetTable;
import dev.sparkvit.testing.SharedSpark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.TableProperties;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The streamed training input on a real dataset table of several data files, the newer ones in row groups of about
 * 100 rows: the sequence a (seed, epoch) gives, every train row once per epoch over the partitions, resuming at any
 * position, and the rows held bounded by the shuffle buffer and the window, not the row group or the dataset.
 */
@ExtendWith(SharedSpark.class)
class StreamedImagesTest {
    private static final String[] COLUMNS = {"id", "label_index", "height", "width", "pixels"};
    @TempDir
    static Path shared;
    private static DatasetSnapshot snapshot;

    @BeforeAll
    static void ingest() {
        Path raw = shared.resolve("raw");
        new SyntheticImageFolder(16, 6, 99).writeTo(raw);
        String dataset = shared.resolve("ds").toString();
        new IngestJob(IngestSettings.defaults(raw.toString(), dataset).withStoredSize(16))
                .execute(SharedSpark.session());
        // the next ingest writes row groups of ~100 rows (the writer checks its size every 100 rows)
        DatasetTable.open(new Configuration(), dataset).table().updateProperties()
                .set(TableProperties.PARQUET_ROW_GROUP_SIZE_BYTES, "2048").commit();
        Path more = shared.resolve("more");
        new SyntheticImageFolder(16, 60, 4).writeTo(more);
        new IngestJob(IngestSettings.defaults(more.toString(), dataset).withStoredSize(16).withIncremental(true))
                .execute(SharedSpark.session());
        snapshot = StoredImages.snapshot(SharedSpark.session(), dataset, null);
    }

    @AfterEach
    void releaseKeptStreams() {
        StreamedImages.Cursors.clear();
    }

    private static StreamedImages stream(int partitions, int buffer, int window, long seed) {
        return StreamedImages.of(SharedSpark.session(), snapshot, "train", COLUMNS, RowFilter.ALL, partitions, buffer,
                window, seed);
    }

    /** The ids of each partition's pass of {@code epoch}, read by Spark tasks. */
    private static List<List<String>> epoch(StreamedImages images, int epoch) {
        List<List<String>> parts = images.perPartition(epoch, (index, rows) -> {
            List<String> ids = new ArrayList<>();
            for (long p = 0; p < rows.length(); p++) {
                ids.add(rows.at(p).getString(0));
            }
            return List.of(ids).iterator();
        }).collect();
        return parts;
    }

    private static List<String> ids(StreamCursor cursor, long from, long to) {
        List<String> ids = new ArrayList<>();
        for (long p = from; p < to; p++) {
            ids.add(cursor.at(p).getString(0));
        }
        return ids;
    }

    @Test
    void theTableHasSeveralFilesAndRowGroups() {
        StreamPlan plan = stream(2, 16, 1, 1).plan();
        long groups = plan.files().stream().mapToLong(f -> f.rowGroups().length).sum();
        assertTrue(plan.files().size() >= 3 && groups >= plan.files().size() + 3, plan.files().size() + " files, "
                + groups + " row groups: the tests below need several of both");
    }

    @Test
    void everyTrainRowIsServedOncePerEpochInASeededOrder() {
        StreamedImages a = stream(2, 16, 1, 7);
        List<String> expected = StoredImages.read(SharedSpark.session(), snapshot, "train").select("id")
                .as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
        assertEquals(expected.size(), a.size());
        List<List<String>> first = epoch(a, 0);
        List<String> all = new ArrayList<>();
        first.forEach(all::addAll);
        assertEquals(expected.size(), all.size());
        assertEquals(new HashSet<>(expected), new HashSet<>(all), "every train row, none twice");
        assertEquals(all.size(), new HashSet<>(all).size(), "no row twice");
        assertTrue(Math.abs(first.get(0).size() - first.get(1).size()) <= 1, "shares within one row");

        assertEquals(first, epoch(stream(2, 16, 1, 7), 0), "the same seed and epoch give the same sequence");
        List<List<String>> second = epoch(a, 1);
        assertNotEquals(first, second, "another epoch, another order");
        Set<String> secondAll = new HashSet<>();
        second.forEach(secondAll::addAll);
        assertEquals(new HashSet<>(expected), secondAll);
        assertNotEquals(first, epoch(stream(2, 16, 1, 8), 0), "another seed, another order");
    }

    @Test
    void aStreamResumedAtAnyPositionContinuesAsTheUninterruptedOne() {
        StreamPlan plan = stream(2, 16, 4, 3).plan();
        StreamCursor whole = new StreamCursor(plan, "a", 1, 2, 1);
        long length = whole.length();
        List<String> expected = ids(whole, 0, length + 10); // past the end: the pass wraps to the same order
        assertEquals(expected.subList(0, 10), expected.subList((int) length, (int) length + 10));
        for (long q : new long[] {1, 17, length / 2, length - 3, length + 2}) {
            try (StreamCursor resumed = new StreamCursor(plan, "b", 1, 2, 1)) {
                assertEquals(expected.subList((int) q, (int) length + 10), ids(resumed, q, length + 10),
                        "resumed at " + q);
            }
        }
        // within the window a cursor serves positions behind the newest (mixing partners); further back it replays
        try (StreamCursor back = new StreamCursor(plan, "c", 1, 2, 1)) {
            assertEquals(expected.get(40), back.at(40).getString(0));
            assertEquals(expected.get(43), back.at(43).getString(0));
            assertEquals(expected.get(40), back.at(40).getString(0));
            assertEquals(expected.get(5), back.at(5).getString(0));
        }
        whole.close();
    }

    @Test
    void aStreamHoldsTheBufferAndWindowNotTheRowGroupNorTheDataset() {
        StreamPlan plan = stream(1, 8, 4, 5).plan();
        long largestGroup = plan.files().stream().flatMapToLong(f -> java.util.Arrays.stream(f.rowGroups())).max()
                .orElseThrow();
        assertTrue(largestGroup > 8 + 4, "a row group of " + largestGroup + " rows would not fit the bound");
        long before = HeldRows.now();
        HeldRows.resetPeak();
        try (StreamCursor cursor = new StreamCursor(plan, "m", 0, 1, 0)) {
            ids(cursor, 0, cursor.length() * 2);
            cursor.seekTo(cursor.length() / 2);
            ids(cursor, cursor.length() / 2, cursor.length());
            long peak = HeldRows.peak() - before;
            assertTrue(peak <= 8 + 4, "held " + peak + " rows at once, more than the buffer (8) and window (4)");
            assertTrue(peak >= 8, "the buffer is counted: held " + peak);
        }
        assertEquals(before, HeldRows.now(), "a closed stream holds nothing");
    }
}
