package dev.sparkvit.data.ingest;

import static dev.sparkvit.data.ingest.IngestChildren.images;
import static dev.sparkvit.data.ingest.IngestChildren.ingest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.jobs.train.ChildProcesses.Child;
import dev.sparkvit.testing.Reliability;
import dev.sparkvit.testing.SharedSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real {@code sparkvit ingest --incremental} process killed with SIGKILL at several points of its run (its lock
 * taken, 2 s later, its first data file written, its commit's metadata file written): the dataset table is at the
 * previous snapshot or the new one, never between (rows, class index and manifest agree), and the next run brings it
 * to the full state. Slow (a JVM with Spark per point): {@code make reliability}.
 */
@Reliability
@ExtendWith(SharedSpark.class)
class IngestKillTest {

    private static List<String> files(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        }
    }

    /** label -> rows of the current snapshot, checked against its class index and manifest. */
    private static Map<String, Long> state(Path dataset) {
        Map<String, Long> byLabel = new TreeMap<>();
        List<ClassIndexCheck.Pair> pairs = ClassIndexCheck.pairs(StoredTables.images(dataset));
        assertNull(ClassIndexCheck.problem(StoredTables.classes(dataset), pairs), "every row names its class");
        long total = 0;
        for (ClassIndexCheck.Pair p : pairs) {
            byLabel.merge(p.label(), p.rows(), Long::sum);
            total += p.rows();
        }
        Manifest manifest = StoredTables.manifest(dataset);
        assertEquals(total, manifest.images(), "the manifest was committed with the rows");
        assertEquals(StoredTables.classes(dataset), manifest.classes());
        assertEquals(StoredTables.quarantine(dataset).count(), manifest.quarantinedByReason().values().stream()
                .mapToLong(Long::longValue).sum());
        return byLabel;
    }

    /** Whether the dataset lock is the one of process {@code pid}. */
    private static boolean locked(Path dataset, long pid) {
        try {
            return java.util.regex.Pattern.compile("\"pid\"\\s*:\\s*" + pid + "\\b").matcher(Files.readString(
                    dataset.resolve(".lock"))).find();
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void aKilledIngestLeavesThePreviousOrTheNewSnapshotAtEveryPoint(@TempDir Path tmp) throws Exception {
        Path base = tmp.resolve("base");
        images(base, "cat", 4, 1);
        images(base, "dog", 4, 2);
        Path dataset = tmp.resolve("ds");
        Child first = ingest(tmp, "first", base, dataset, false);
        assertEquals(0, first.exit(10), first.output());
        Map<String, Long> previous = state(dataset);

        Path added = tmp.resolve("added");
        images(added, "newA", 30, 3);
        BadFiles.write(added.resolve("newA/broken.png"), "not an image".getBytes());
        Map<String, Long> complete = new TreeMap<>(previous);
        complete.put("newA", 30L);

        Map<String, java.util.function.BiPredicate<Path, Long>> points = new java.util.LinkedHashMap<>();
        List<String> dataBefore = files(dataset.resolve("data"));
        List<String> metadataBefore = files(dataset.resolve("metadata"));
        long[] lockSeen = {0};
        points.put("lock taken", IngestKillTest::locked);
        points.put("2 s after the lock", (ds, pid) -> {
            if (lockSeen[0] == 0 && locked(ds, pid)) {
                lockSeen[0] = System.nanoTime();
            }
            return lockSeen[0] != 0 && System.nanoTime() - lockSeen[0] > 2_000_000_000L;
        });
        points.put("first data file", (ds, pid) -> {
            try {
                return !files(ds.resolve("data")).equals(dataBefore);
            } catch (IOException e) {
                return false;
            }
        });
        points.put("commit metadata written", (ds, pid) -> {
            try {
                return files(ds.resolve("metadata")).stream().filter(n -> n.endsWith(".metadata.json")).count()
                        > metadataBefore.stream().filter(n -> n.endsWith(".metadata.json")).count();
            } catch (IOException e) {
                return false;
            }
        });
        List<String> seen = new ArrayList<>();
        for (Map.Entry<String, java.util.function.BiPredicate<Path, Long>> point : points.entrySet()) {
            long snapshot = StoredTables.snapshot(dataset);
            Child killed = ingest(tmp, "killed-" + seen.size(), added, dataset, true);
            while (killed.process().isAlive() && !point.getValue().test(dataset, killed.process()
                    .pid())) {
                Thread.sleep(2);
            }
            killed.process().destroyForcibly().waitFor();
            Map<String, Long> now = state(dataset);
            boolean committed = StoredTables.snapshot(dataset) != snapshot;
            assertEquals(committed ? complete : previous, now, point.getKey() + ": all of the run or none");
            seen.add(point.getKey() + ": " + (committed ? "new snapshot" : "previous snapshot"));
            if (committed) {
                break; // the later points need a run with something to commit
            }
        }
        Child last = ingest(tmp, "after", added, dataset, true);
        assertEquals(0, last.exit(10), last.output());
        assertEquals(complete, state(dataset));
        assertTrue(last.stdout().contains("dataset: " + dataset + " (38 images)"), last.stdout());
        System.out.println("IngestKillTest: " + seen);
    }
}
