package dev.sparkvit.data.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.lock.FolderLock;
import dev.sparkvit.lock.LockHeldException;
import dev.sparkvit.testing.SharedSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every writer of a dataset holds its lock, the class index is written before the rows that use it, and an
 * incremental run repairs a dataset an interrupted run left between two states (issue 20, defect 0). Before: two
 * ingests of disjoint classes into one folder both exited 0 with bike rows at label_index 0 of [cat, dog]; a run
 * killed after its shards left rows whose index named no class, counted "already present" ever after.
 */
@ExtendWith(SharedSpark.class)
class DatasetWritersTest {
    @TempDir
    Path tmp;

    @AfterEach
    void noKill() {
        IngestJob.beforeCommit = () -> { };
    }

    /** {@code n} noise images under root/cls, distinct for each (class, seed). */
    private static void images(Path root, String cls, int n, int seed) throws IOException {
        for (int i = 0; i < n; i++) {
            BadFiles.write(root.resolve(cls).resolve(cls + i + ".png"),
                    BadFiles.encode(BadFiles.noise(12, 12, seed * 1000L + cls.hashCode() * 31L + i), "png"));
        }
    }

    private static IngestSettings settings(Path input, Path output, boolean incremental) {
        return IngestSettings.defaults(input.toString(), output.toString()).withStoredSize(8)
                .withIncremental(incremental);
    }

    private static IngestResult ingest(Path input, Path output, boolean incremental, List<String> said) {
        return new IngestJob(settings(input, output, incremental), said::add).execute(SharedSpark.session());
    }

    private static List<String> classes(Path dataset) throws IOException {
        return StoredTables.classes(dataset);
    }

    private static List<ClassIndexCheck.Pair> pairs(Path dataset) {
        return ClassIndexCheck.pairs(StoredTables.images(dataset));
    }

    /** Every stored row's label_index names its own label in the committed class index. */
    private static void assertConsistent(Path dataset) throws IOException {
        assertNull(ClassIndexCheck.problem(classes(dataset), pairs(dataset)), "rows " + pairs(dataset)
                + " vs classes " + classes(dataset));
    }

    private static int indexOf(Path dataset, String label) {
        return pairs(dataset).stream().filter(p -> label.equals(p.label())).mapToInt(ClassIndexCheck.Pair::index)
                .distinct().reduce((a, b) -> -2).orElse(-3);
    }

    private static void assertHeldLine(LockHeldException e, Path dataset) {
        String m = e.getMessage();
        assertFalse(m.contains("\n"), m);
        assertTrue(m.startsWith("dataset " + dataset + " is locked by another ingest or retrain run (pid "
                + ProcessHandle.current().pid() + " on "), m);
        assertTrue(m.contains(", since ") && m.contains("this run changed nothing. If no ingest or retrain run is "
                + "active, delete " + dataset.resolve(".lock")), m);
    }

    @Test
    void aSecondIngestOfDisjointClassesWhileTheFirstHoldsTheLockStopsWithOneLineAndChangesNothing()
            throws IOException {
        Path catsDogs = tmp.resolve("a");
        images(catsDogs, "cat", 3, 1);
        images(catsDogs, "dog", 3, 1);
        Path bikesCars = tmp.resolve("b");
        images(bikesCars, "bike", 3, 2);
        images(bikesCars, "car", 3, 2);
        Path dataset = tmp.resolve("ds");
        IngestSettings first = settings(catsDogs, dataset, false);
        List<String> said = new ArrayList<>();
        try (FolderLock held = IngestJob.lock(first, "--output", new Configuration(), said::add)) {
            LockHeldException e = assertThrows(LockHeldException.class,
                    () -> ingest(bikesCars, dataset, false, said));
            assertHeldLine(e, dataset);
            assertFalse(Files.exists(dataset.resolve("metadata")) || Files.exists(dataset.resolve("data")));
            new IngestJob(first, said::add).execute(SharedSpark.session(), held);
        }
        assertEquals(List.of("cat", "dog"), classes(dataset));
        assertConsistent(dataset);
        assertEquals(-3, indexOf(dataset, "bike"), "no bike rows");
        assertFalse(Files.exists(dataset.resolve(".lock")), "released");
        assertEquals(List.of(), said);
    }

    @Test
    void incrementalRunsAddingNewClassesGetDistinctIndexesAndOneStartedMeanwhileStops() throws IOException {
        Path base = tmp.resolve("base");
        images(base, "bike", 2, 1);
        images(base, "cat", 2, 1);
        images(base, "dog", 2, 1);
        Path dataset = tmp.resolve("ds");
        List<String> said = new ArrayList<>();
        ingest(base, dataset, false, said);
        Path newA = tmp.resolve("newA");
        images(newA, "newA", 2, 3);
        Path newB = tmp.resolve("newB");
        images(newB, "newB", 2, 4);

        IngestSettings a = settings(newA, dataset, true);
        try (FolderLock held = IngestJob.lock(a, "--output", new Configuration(), said::add)) {
            assertHeldLine(assertThrows(LockHeldException.class, () -> ingest(newB, dataset, true, said)), dataset);
            new IngestJob(a, said::add).execute(SharedSpark.session(), held);
        }
        ingest(newB, dataset, true, said);

        assertEquals(List.of("bike", "cat", "dog", "newA", "newB"), classes(dataset));
        assertEquals(3, indexOf(dataset, "newA"));
        assertEquals(4, indexOf(dataset, "newB"));
        assertConsistent(dataset);
        assertEquals(List.of(), said);
    }

    @Test
    void aRunFailingAfterItsDataFilesBeforeItsCommitLeavesThePreviousSnapshotAndTheNextRunCommitsItAll()
            throws IOException {
        Path base = tmp.resolve("base");
        images(base, "cat", 3, 1);
        images(base, "dog", 3, 1);
        Path added = tmp.resolve("added");
        images(added, "newA", 4, 5);
        BadFiles.write(added.resolve("newA/broken.png"), "not an image".getBytes());
        Path dataset = tmp.resolve("ds");
        List<String> said = new ArrayList<>();
        ingest(base, dataset, false, said);
        long before = StoredTables.snapshot(dataset);
        String manifestBefore = StoredTables.table(dataset).manifestJson();

        IngestJob.beforeCommit = () -> {
            throw new IllegalStateException("dies after its data files were written, before its commit");
        };
        assertThrows(IllegalStateException.class, () -> ingest(added, dataset, true, said));
        IngestJob.beforeCommit = () -> { };
        // before issue 22 the rows were visible here and manifest.json the previous run's; now nothing of the run
        assertEquals(before, StoredTables.snapshot(dataset));
        assertEquals(6, pairs(dataset).stream().mapToLong(ClassIndexCheck.Pair::rows).sum());
        assertEquals(0, StoredTables.quarantine(dataset).count());
        assertEquals(manifestBefore, StoredTables.table(dataset).manifestJson());
        assertEquals(List.of("cat", "dog"), classes(dataset));
        assertConsistent(dataset);

        IngestResult next = ingest(added, dataset, true, said);
        assertEquals(List.of(), said, "nothing to repair");
        assertEquals(0, next.alreadyPresent(), "the failed run left nothing that counts as present");
        assertEquals(4, next.stored());

        Path all = tmp.resolve("all");
        images(all, "cat", 3, 1);
        images(all, "dog", 3, 1);
        images(all, "newA", 4, 5);
        BadFiles.write(all.resolve("newA/broken.png"), "not an image".getBytes());
        Manifest clean = ingest(all, tmp.resolve("clean"), false, said).manifest();
        Manifest after = StoredTables.manifest(dataset);
        assertEquals(clean.classes(), after.classes());
        assertEquals(clean.images(), after.images());
        assertEquals(clean.counts(), after.counts());
        assertEquals(clean.quarantinedByReason(), after.quarantinedByReason());
        assertArrayEquals(clean.channelMean(), after.channelMean(), 1e-9);
        assertArrayEquals(clean.channelStd(), after.channelStd(), 1e-9);
        assertConsistent(dataset);
    }

    /**
     * A writer killed after writing a data file and before its commit leaves the file in data/, referenced by no
     * snapshot (IngestKillTest kills real processes; here the file is planted: a copy of a data file under a new
     * name). The next run, holding the lock, removes such files once older than the margin (10 minutes) and keeps a
     * younger one (a writer whose lease just lapsed may still be writing it); the table reads as before.
     */
    @Test
    void aKilledWritersDataFilesAreRemovedByTheNextRunOnceOlderThanTheMargin() throws IOException {
        Path base = tmp.resolve("base");
        images(base, "cat", 3, 1);
        images(base, "dog", 3, 1);
        Path dataset = tmp.resolve("ds");
        List<String> said = new ArrayList<>();
        ingest(base, dataset, false, said);
        Path committed = dataFiles(dataset).get(0);
        Path old = committed.resolveSibling("00000-killed-old.parquet");
        Path young = committed.resolveSibling("00000-killed-young.parquet");
        Files.copy(committed, old);
        Files.copy(committed, young);
        Files.setLastModifiedTime(old, java.nio.file.attribute.FileTime.fromMillis(
                System.currentTimeMillis() - 3_600_000L));
        long rows = pairs(dataset).stream().mapToLong(ClassIndexCheck.Pair::rows).sum();

        Path more = tmp.resolve("more");
        images(more, "cat", 2, 9);
        ingest(more, dataset, true, said);
        assertEquals(List.of("removed 1 data file of " + dataset + " that no snapshot references (left by a run "
                + "killed before its commit)"), said);
        assertFalse(Files.exists(old), "older than the margin: removed");
        assertTrue(Files.exists(young), "younger than the margin: kept");
        assertTrue(Files.exists(committed), "a referenced file: kept");
        assertEquals(rows + 2, pairs(dataset).stream().mapToLong(ClassIndexCheck.Pair::rows).sum());
        java.util.Set<String> referenced = referencedDataFiles(dataset);
        assertEquals(java.util.Set.of(young.toString()), dataFiles(dataset).stream().map(Path::toString)
                .filter(f -> !referenced.contains(f)).collect(java.util.stream.Collectors.toSet()));
        assertConsistent(dataset);
    }

    /** The files under the dataset's data/ folder, hidden ones (Hadoop's .crc) left out. */
    private static List<Path> dataFiles(Path dataset) throws IOException {
        try (var files = Files.walk(dataset.resolve("data"))) {
            return files.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().startsWith("."))
                    .map(Path::toAbsolutePath).toList();
        }
    }

    /** The data files some snapshot of the table references, as local paths. */
    private static java.util.Set<String> referencedDataFiles(Path dataset) {
        org.apache.iceberg.Table table = StoredTables.table(dataset).refresh().table();
        java.util.Set<String> paths = new java.util.HashSet<>();
        for (org.apache.iceberg.Snapshot snapshot : table.snapshots()) {
            snapshot.addedDataFiles(table.io()).forEach(f -> paths.add(
                    Path.of(java.net.URI.create(f.path().toString()).getPath()).toAbsolutePath().toString()));
        }
        return paths;
    }

    @Test
    void aCommitByAnotherWriterAfterThisRunReadTheTableStopsItWithOneLineAndNothingOfItIsCommitted()
            throws IOException {
        Path base = tmp.resolve("base");
        images(base, "cat", 2, 1);
        Path added = tmp.resolve("added");
        images(added, "newA", 2, 3);
        Path dataset = tmp.resolve("ds");
        ingest(base, dataset, false, new ArrayList<>());
        long[] other = {-1};
        // a writer that took the lock over (its holder looked dead) and committed while this run decoded
        IngestJob.beforeCommit = () -> {
            dev.sparkvit.data.table.DatasetTable t = StoredTables.table(dataset);
            other[0] = t.append(new dev.sparkvit.data.table.DatasetTable.Rows(null, null, null), t.classes(),
                    t.manifestJson(), t.currentSnapshotId(), written -> { });
        };
        LockHeldException e = assertThrows(LockHeldException.class,
                () -> ingest(added, dataset, true, new ArrayList<>()));
        IngestJob.beforeCommit = () -> { };
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().contains("another writer committed snapshot " + other[0] + " after this run read "
                + "snapshot ") && e.getMessage().endsWith("nothing committed, run again"), e.getMessage());
        assertEquals(other[0], StoredTables.snapshot(dataset), "the other writer's snapshot, not this run's");
        assertEquals(List.of("cat"), classes(dataset));
        assertEquals(-3, indexOf(dataset, "newA"), "no row of the stopped run");
        assertConsistent(dataset);
    }

    @Test
    void aLeftoverLockOfAKilledFirstRunDoesNotMakeTheFolderANonDataset() throws IOException {
        Path base = tmp.resolve("base");
        images(base, "cat", 2, 1);
        Path dataset = tmp.resolve("ds");
        Files.createDirectories(dataset);
        Files.writeString(dataset.resolve(".lock"), new dev.sparkvit.lock.LockHolder(Long.MAX_VALUE - 1,
                dev.sparkvit.lock.LockHolder.current().host(), dev.sparkvit.lock.LockHolder.current().bootId(),
                dev.sparkvit.lock.LockHolder.current().pidNamespace(), 5, java.time.Instant.now())
                .toJson("sparkvit ingest"));
        List<String> said = new ArrayList<>();
        IngestResult r = ingest(base, dataset, true, said);
        assertEquals(2, r.stored());
        assertEquals(1, said.size(), said.toString());
        assertTrue(said.get(0).startsWith("took over the dataset lock " + dataset.resolve(".lock") + " of an ingest "
                + "or retrain run that is no longer running (pid " + (Long.MAX_VALUE - 1)), said.get(0));
    }
}
