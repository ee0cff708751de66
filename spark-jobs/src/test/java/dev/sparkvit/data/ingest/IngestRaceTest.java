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
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real {@code sparkvit ingest} processes (each its own JVM and local Spark) racing on one dataset, and one killed
 * with SIGKILL right after its new shards appear (issue 20, defect 0). Before the dataset lock both racers exited 0:
 * disjoint classes cat/dog and bike/car gave classes.json [cat, dog] with bike rows at label_index 0, and two
 * incremental runs adding newA and newB both gave their class index 2. Now one runs and the other exits 4 with the
 * lock line, at once; a run killed as its data files appear leaves the table at the previous snapshot or the new one,
 * and its lock is taken over by the next run. Slow (seven
 * JVMs with Spark): {@code make reliability}.
 */
@Reliability
@ExtendWith(SharedSpark.class)
class IngestRaceTest {

    /** Both started together; the loser (exit 4) must exit while the winner still runs. Returns [winner, loser]. */
    private static List<Child> race(Child a, Child b) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (a.process().isAlive() && b.process().isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        Child first = a.process().isAlive() ? b : a;
        Child other = first == a ? b : a;
        assertTrue(other.process().isAlive(), "the first to exit did so while the other still ran: "
                + first.output());
        assertEquals(4, first.exit(1), first.output());
        assertEquals(0, other.exit(10), other.output());
        return List.of(other, first);
    }

    private static void assertLockLine(Child loser, Child winner, Path dataset) throws IOException {
        String err = Files.readString(loser.err()).trim();
        assertTrue(err.startsWith("sparkvit: dataset " + dataset + " is locked by another ingest or retrain run (pid "
                + winner.process().pid() + " on ") && err.lines().count() == 1, err);
    }

    private static List<String> classes(Path dataset) throws IOException {
        return StoredTables.classes(dataset);
    }

    private static List<ClassIndexCheck.Pair> pairs(Path dataset) {
        return ClassIndexCheck.pairs(StoredTables.images(dataset));
    }

    private static long rows(Path dataset) {
        return pairs(dataset).stream().mapToLong(ClassIndexCheck.Pair::rows).sum();
    }

    /** Data files written so far, committed or not. */
    private static long shards(Path dataset) throws IOException {
        Path images = dataset.resolve("data");
        if (!Files.isDirectory(images)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(images)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".parquet")).count();
        }
    }

    @Test
    void racingIngestsOneRunsTheOtherExitsFourAndAKilledOneIsRepairedByTheNext(@TempDir Path tmp) throws Exception {
        Path catsDogs = tmp.resolve("a");
        images(catsDogs, "cat", 4, 1);
        images(catsDogs, "dog", 4, 2);
        Path bikesCars = tmp.resolve("b");
        images(bikesCars, "bike", 4, 3);
        images(bikesCars, "car", 4, 4);
        Path dataset = tmp.resolve("ds");

        List<Child> first = race(ingest(tmp, "first-a", catsDogs, dataset, false),
                ingest(tmp, "first-b", bikesCars, dataset, false));
        assertLockLine(first.get(1), first.get(0), dataset);
        List<String> classes = classes(dataset);
        assertTrue(classes.equals(List.of("cat", "dog")) || classes.equals(List.of("bike", "car")), classes.toString());
        assertNull(ClassIndexCheck.problem(classes, pairs(dataset)));
        assertEquals(8, rows(dataset));

        Path newA = tmp.resolve("newA");
        images(newA, "newA", 3, 5);
        Path newB = tmp.resolve("newB");
        images(newB, "newB", 3, 6);
        List<Child> second = race(ingest(tmp, "second-a", newA, dataset, true),
                ingest(tmp, "second-b", newB, dataset, true));
        assertLockLine(second.get(1), second.get(0), dataset);
        boolean aWon = second.get(0).err().getFileName().toString().startsWith("second-a");
        Child again = ingest(tmp, "second-again", aWon ? newB : newA, dataset, true);
        assertEquals(0, again.exit(10), again.output());
        assertEquals(4, classes(dataset).size(), classes(dataset).toString());
        assertTrue(classes(dataset).containsAll(List.of("newA", "newB")), classes(dataset).toString());
        assertNull(ClassIndexCheck.problem(classes(dataset), pairs(dataset)), "distinct, valid indexes");
        assertEquals(14, rows(dataset));

        // SIGKILL as soon as the new data files appear: the commit follows them
        Path newC = tmp.resolve("newC");
        images(newC, "newC", 40, 7);
        long before = shards(dataset);
        long snapshotBefore = StoredTables.snapshot(dataset);
        Child killed = ingest(tmp, "killed", newC, dataset, true);
        while (killed.process().isAlive() && shards(dataset) == before) {
            Thread.sleep(5);
        }
        killed.process().destroyForcibly().waitFor();
        assertTrue(Files.exists(dataset.resolve(".lock")), "the killed run's lock is left behind");
        assertNull(ClassIndexCheck.problem(classes(dataset), pairs(dataset)), "no row without its class");
        long stored = rows(dataset);
        boolean committed = StoredTables.snapshot(dataset) != snapshotBefore;
        assertEquals(committed ? 54 : 14, stored, "all of the run or none of it");
        assertEquals(stored, StoredTables.manifest(dataset).images(), "the manifest committed with the rows");

        Child next = ingest(tmp, "after-kill", newC, dataset, true);
        assertEquals(0, next.exit(10), next.output());
        String out = next.stdout();
        assertTrue(out.contains("sparkvit ingest: took over the dataset lock " + dataset.resolve(".lock") + " of an "
                + "ingest or retrain run that is no longer running (pid " + killed.process().pid()), out);
        assertTrue(out.contains((committed ? 40 : 0) + " already present"), out);
        Manifest manifest = StoredTables.manifest(dataset);
        assertEquals(54, manifest.images());
        assertEquals(54, rows(dataset));
        assertEquals(40L, manifest.counts().get("newC").values().stream().mapToLong(Long::longValue).sum());
        assertNull(ClassIndexCheck.problem(classes(dataset), pairs(dataset)));
        System.out.println("IngestRaceTest: killed " + (committed ? "after" : "before") + " its commit");
    }
}
