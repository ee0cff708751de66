package dev.sparkvit.data.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.ingest.StoredImageSchema;
import dev.sparkvit.storage.MiniHdfs;
import dev.sparkvit.testing.SharedSpark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Iceberg prototype of issue 22: one append is one atomic snapshot holding rows, class index and figures; a
 * writer failing before its commit leaves nothing visible; time travel returns an older snapshot's rows exactly; two
 * racing writers either both commit (no new classes on one side) or the later one fails with one line and changes
 * nothing; the same on a real HDFS.
 */
@ExtendWith(SharedSpark.class)
class DatasetTableTest {

    /** {@code n} rows of class {@code cls} (label index {@code index}), 2x2x3 pixels derived from the id. */
    static Dataset<Row> rows(String cls, int index, int n, int partitions) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String id = cls + "-" + i;
            byte[] pixels = new byte[12];
            for (int p = 0; p < pixels.length; p++) {
                pixels[p] = (byte) (id.hashCode() * 31 + p);
            }
            rows.add(RowFactory.create(id, cls, index, i % 5 == 0 ? "val" : "train", 2, 2, 3, pixels,
                    "/in/" + cls + "/" + i + ".png", "h" + Integer.toHexString(id.hashCode())));
        }
        return SharedSpark.session().createDataFrame(rows, StoredImageSchema.IMAGES).repartition(partitions);
    }

    /** id -> "label_index label pixels..." for comparing row sets exactly. */
    static Map<String, String> contents(Dataset<Row> ds) {
        Map<String, String> out = new TreeMap<>();
        for (Row r : ds.collectAsList()) {
            assertEquals(StoredImageSchema.IMAGES.fieldNames().length, r.size());
            out.put(r.getString(0), r.getInt(2) + " " + r.getString(1) + " " + r.getString(3) + " "
                    + java.util.Arrays.toString((byte[]) r.get(7)) + " " + r.getString(8) + " " + r.getString(9));
        }
        return out;
    }

    static Map<String, String> union(Map<String, String> a, Map<String, String> b) {
        Map<String, String> out = new TreeMap<>(a);
        out.putAll(b);
        return out;
    }

    @Test
    void oneAppendIsOneSnapshotWithItsClassesAndFiguresAndTimeTravelReturnsTheOlderRowsExactly(@TempDir Path tmp) {
        SparkSession spark = SharedSpark.session();
        DatasetTable t = DatasetTable.create(new Configuration(), tmp.resolve("ds").toString());
        assertEquals(-1, t.currentSnapshotId());
        assertEquals(List.of(), t.classes());

        Dataset<Row> first = union(rows("cat", 0, 7, 2), rows("dog", 1, 5, 1));
        long t0 = System.nanoTime();
        long s1 = t.append(first, List.of("cat", "dog"), Map.of("stored", 12L, "quarantined", 1L));
        System.out.printf("DatasetTableTest: append of 12 rows in 3 files, write + commit %.0f ms%n",
                (System.nanoTime() - t0) / 1e6);
        Map<String, String> rows1 = contents(first);
        assertEquals(s1, t.currentSnapshotId());
        assertEquals(rows1, contents(t.read(spark)));
        assertEquals(List.of("cat", "dog"), t.classes());
        assertEquals(Map.of("stored", 12L, "quarantined", 1L), t.manifest());

        Dataset<Row> second = rows("bird", 2, 4, 1);
        long s2 = t.append(second, List.of("cat", "dog", "bird"), Map.of("stored", 4L, "quarantined", 0L));
        assertNotEquals(s1, s2);
        assertEquals(s1, t.table().currentSnapshot().parentId());

        // a reader opening the table afresh sees the second commit whole: rows, classes, figures
        DatasetTable reader = DatasetTable.open(new Configuration(), t.location());
        assertEquals(s2, reader.currentSnapshotId());
        Map<String, String> rows2 = union(rows1, contents(second));
        assertEquals(rows2, contents(reader.read(spark)));
        assertEquals(List.of("cat", "dog", "bird"), reader.classes());
        assertEquals(Map.of("stored", 4L, "quarantined", 0L), reader.manifest());
        for (String v : rows2.values()) {
            int index = Integer.parseInt(v.split(" ")[0]);
            assertEquals(reader.classes().get(index), v.split(" ")[1], "every label index names its class");
        }

        // time travel: the first snapshot's rows exactly, with the classes and figures of its own commit
        assertEquals(rows1, contents(reader.read(spark, s1)));
        assertEquals(List.of("cat", "dog"), reader.classes(s1));
        assertEquals(Map.of("stored", 12L, "quarantined", 1L), reader.manifest(s1));
        assertEquals(rows2, contents(reader.read(spark, s2)));
        assertThrows(IllegalArgumentException.class, () -> reader.read(spark, 12345L));
    }

    private static Dataset<Row> union(Dataset<Row> a, Dataset<Row> b) {
        return a.union(b);
    }

    @Test
    void aWriterFailingBeforeItsCommitLeavesTheOldSnapshotAndNoVisibleRows(@TempDir Path tmp) {
        SparkSession spark = SharedSpark.session();
        DatasetTable t = DatasetTable.create(new Configuration(), tmp.resolve("ds").toString());
        Dataset<Row> first = rows("cat", 0, 6, 2);
        long s1 = t.append(first, List.of("cat"), Map.of("stored", 6L));
        int[] filesWritten = {0};
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.append(rows("dog", 1, 5, 2),
                List.of("cat", "dog"), Map.of("stored", 5L), written -> {
                    filesWritten[0] = written.size();
                    throw new IllegalStateException("killed before commit");
                }));
        assertEquals("killed before commit", e.getMessage());
        assertEquals(2, filesWritten[0], "the data files were written");
        assertEquals(List.of((long) count(t.refresh().table().newScan().planFiles())), dataFiles(tmp.resolve("ds")),
                "and deleted after the failure");

        DatasetTable reader = DatasetTable.open(new Configuration(), t.location());
        assertEquals(s1, reader.currentSnapshotId());
        assertEquals(1, count(reader.table().snapshots()));
        assertEquals(contents(first), contents(reader.read(spark)));
        assertEquals(List.of("cat"), reader.classes());
        assertEquals(Map.of("stored", 6L), reader.manifest());
    }

    /** The number of Parquet files under the table's data folder, as a one-element list (for the message). */
    private static List<Long> dataFiles(Path table) {
        try (var files = java.nio.file.Files.walk(table.resolve("data"))) {
            return List.of(files.filter(f -> f.toString().endsWith(".parquet")).count());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static int count(Iterable<?> it) {
        int n = 0;
        for (Object o : it) {
            n++;
        }
        return n;
    }

    /**
     * Two writers read the same committed class index [cat, dog], write their files, and commit at once. Writer A adds
     * rows of existing classes only, B a new class: both commit, one on top of the other. Then two writers each adding
     * a new class (newA, newB, both given index 2): exactly one commits, the other fails with one line naming the
     * committed index, and the table holds the winner's rows and classes only.
     */
    @Test
    void racingWritersCommitOnTopOrTheOneWhoseClassIndexWasOvertakenFailsAndChangesNothing(@TempDir Path tmp)
            throws Exception {
        SparkSession spark = SharedSpark.session();
        DatasetTable t = DatasetTable.create(new Configuration(), tmp.resolve("ds").toString());
        Dataset<Row> base = rows("cat", 0, 3, 1).union(rows("dog", 1, 3, 1));
        t.append(base, List.of("cat", "dog"), Map.of("stored", 6L));

        // 1) compatible: A = more cats (no new class), B = new class "bird"
        Dataset<Row> a = rows("cat", 0, 9, 1).filter("id >= 'cat-3'");
        Dataset<Row> b = rows("bird", 2, 4, 1);
        List<Object> results = race(t.location(),
                w -> w.append(a, List.of("cat", "dog"), Map.of("stored", 6L), waitFor(w)),
                w -> w.append(b, List.of("cat", "dog", "bird"), Map.of("stored", 4L), waitFor(w)));
        assertTrue(results.get(0) instanceof Long && results.get(1) instanceof Long, results.toString());
        t.refresh();
        assertEquals(List.of("cat", "dog", "bird"), t.classes());
        assertEquals(union(union(contents(base), contents(a)), contents(b)), contents(t.read(spark)));
        assertEquals(3, count(t.table().snapshots()));

        // 2) conflicting: both assign index 3 to their new class
        long before = t.currentSnapshotId();
        Map<String, String> rowsBefore = contents(t.read(spark));
        Dataset<Row> na = rows("newA", 3, 3, 1);
        Dataset<Row> nb = rows("newB", 3, 3, 1);
        results = race(t.location(),
                w -> w.append(na, List.of("cat", "dog", "bird", "newA"), Map.of("stored", 3L), waitFor(w)),
                w -> w.append(nb, List.of("cat", "dog", "bird", "newB"), Map.of("stored", 3L), waitFor(w)));
        int winner = results.get(0) instanceof Long ? 0 : 1;
        Object lost = results.get(1 - winner);
        assertTrue(lost instanceof ClassIndexConflictException, results.toString());
        String message = ((Exception) lost).getMessage();
        assertFalse(message.contains("\n"), message);
        String winnerClass = winner == 0 ? "newA" : "newB";
        assertTrue(message.contains("[cat, dog, bird, " + winnerClass + "]") && message.contains("nothing committed"),
                message);
        t.refresh();
        assertEquals(before, t.table().currentSnapshot().parentId());
        assertEquals(List.of("cat", "dog", "bird", winnerClass), t.classes());
        assertEquals(union(rowsBefore, contents(winner == 0 ? na : nb)), contents(t.read(spark)));
        for (String v : contents(t.read(spark)).values()) {
            assertEquals(t.classes().get(Integer.parseInt(v.split(" ")[0])), v.split(" ")[1]);
        }
        assertEquals(List.of((long) count(t.table().newScan().planFiles())), dataFiles(tmp.resolve("ds")),
                "the loser's files are deleted");
    }

    /**
     * The class check and the commit are one compare-and-swap: writer B passes its check against [cat], then, before
     * B commits, writer A commits [cat, newA]. B's commit fails Iceberg's validation, B checks again, sees the index
     * overtaken and fails with nothing committed; a third writer whose index extends A's then commits on top.
     */
    @Test
    void aCommitBetweenTheClassCheckAndTheCommitIsCaught(@TempDir Path tmp) {
        SparkSession spark = SharedSpark.session();
        String location = tmp.resolve("ds").toString();
        DatasetTable t = DatasetTable.create(new Configuration(), location);
        t.append(rows("cat", 0, 3, 1), List.of("cat"), Map.of("stored", 3L));
        Dataset<Row> na = rows("newA", 1, 2, 1);
        Dataset<Row> nb = rows("newB", 1, 2, 1);
        DatasetTable a = DatasetTable.open(new Configuration(), location);
        DatasetTable b = DatasetTable.open(new Configuration(), location);
        int[] checks = {0};
        b.afterClassCheck(() -> {
            if (checks[0]++ == 0) {
                a.append(na, List.of("cat", "newA"), Map.of("stored", 2L));
            }
        });
        ClassIndexConflictException e = assertThrows(ClassIndexConflictException.class,
                () -> b.append(nb, List.of("cat", "newB"), Map.of("stored", 2L)));
        assertEquals(1, checks[0], "the second attempt's check fails before its hook");
        assertTrue(e.getMessage().contains("[cat, newA]"), e.getMessage());
        t.refresh();
        assertEquals(List.of("cat", "newA"), t.classes());
        assertEquals(2, count(t.table().snapshots()));
        assertEquals(union(contents(rows("cat", 0, 3, 1)), contents(na)), contents(t.read(spark)));

        Dataset<Row> nc = rows("newC", 2, 2, 1);
        t.append(nc, List.of("cat", "newA", "newC"), Map.of("stored", 2L));
        assertEquals(List.of("cat", "newA", "newC"), t.refresh().classes());
    }

    @FunctionalInterface
    interface Writer {
        long write(DatasetTable w) throws Exception;
    }

    private static final Map<String, CyclicBarrier> BARRIERS = Collections.synchronizedMap(new TreeMap<>());

    /** A hook holding each writer after its files are written until both have written theirs. */
    private static DatasetTable.BeforeCommit waitFor(DatasetTable w) {
        return written -> BARRIERS.get(w.location()).await(120, TimeUnit.SECONDS);
    }

    /** Runs both writers on their own table handles from two threads; each result is a snapshot id or a throwable. */
    private static List<Object> race(String location, Writer first, Writer second) throws Exception {
        BARRIERS.put(location, new CyclicBarrier(2));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Object>> futures = new ArrayList<>();
            for (Writer w : List.of(first, second)) {
                DatasetTable handle = DatasetTable.open(new Configuration(), location);
                futures.add(pool.submit(() -> {
                    try {
                        return w.write(handle);
                    } catch (Throwable e) {
                        return e;
                    }
                }));
            }
            List<Object> out = new ArrayList<>();
            for (Future<Object> f : futures) {
                out.add(f.get(300, TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void commitsAndTimeTravelOnHdfs(@TempDir Path tmp) throws Exception {
        SparkSession spark = SharedSpark.session();
        try (MiniHdfs hdfs = MiniHdfs.start(tmp.resolve("hdfs"))) {
            String location = hdfs.uri() + "/datasets/ds";
            DatasetTable t = DatasetTable.create(hdfs.conf(), location);
            Dataset<Row> first = rows("cat", 0, 5, 2);
            long s1 = t.append(first, List.of("cat"), Map.of("stored", 5L));
            Dataset<Row> second = rows("dog", 1, 4, 1);
            long[] at = new long[1];
            long t0 = System.nanoTime();
            long s2 = t.append(second, List.of("cat", "dog"), Map.of("stored", 4L), w -> at[0] = System.nanoTime());
            System.out.printf("DatasetTableTest: HDFS append of 4 rows, write %.0f ms + commit %.0f ms%n",
                    (at[0] - t0) / 1e6, (System.nanoTime() - at[0]) / 1e6);
            assertThrows(IllegalStateException.class, () -> t.append(rows("eel", 2, 3, 1),
                    List.of("cat", "dog", "eel"), Map.of("stored", 3L), written -> {
                        throw new IllegalStateException("killed before commit");
                    }));

            DatasetTable reader = DatasetTable.open(hdfs.conf(), location);
            assertTrue(reader.table().location().startsWith("hdfs://"), reader.table().location());
            assertEquals(s2, reader.currentSnapshotId());
            assertEquals(List.of("cat", "dog"), reader.classes());
            assertEquals(union(contents(first), contents(second)), contents(reader.read(spark)));
            assertEquals(contents(first), contents(reader.read(spark, s1)));
            assertEquals(List.of("cat"), reader.classes(s1));
        }
    }

    /** Report only: the time of a small append, split into writing the files (Spark job) and the commit. */
    @Test
    void timeOfASmallAppend(@TempDir Path tmp) {
        DatasetTable t = DatasetTable.create(new Configuration(), tmp.resolve("ds").toString());
        List<String> report = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Dataset<Row> batch = rows("c" + i, 0, 20, 2);
            long[] at = new long[1];
            long t0 = System.nanoTime();
            t.append(batch, List.of("c0"), Map.of("stored", 20L), written -> at[0] = System.nanoTime());
            long t1 = System.nanoTime();
            report.add(String.format("%.0f+%.0f", (at[0] - t0) / 1e6, (t1 - at[0]) / 1e6));
        }
        System.out.println("DatasetTableTest: 6 appends of 20 rows in 2 files, write+commit ms: " + report);
    }

    @Test
    void classIndexesMergeWhenOneIsAPrefixOfTheOther() {
        assertEquals(List.of("a", "b"), DatasetTable.merge(List.of("a", "b"), List.of("a", "b")));
        assertEquals(List.of("a", "b", "c"), DatasetTable.merge(List.of("a", "b", "c"), List.of("a", "b")));
        assertEquals(List.of("a", "b", "c"), DatasetTable.merge(List.of("a"), List.of("a", "b", "c")));
        assertEquals(List.of("a"), DatasetTable.merge(List.of(), List.of("a")));
        assertEquals(null, DatasetTable.merge(List.of("a", "b", "c"), List.of("a", "b", "d")));
        assertEquals(null, DatasetTable.merge(List.of("b"), List.of("a", "b")));
    }
}
