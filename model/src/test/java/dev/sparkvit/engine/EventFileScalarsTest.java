package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.visualization.TrainSummary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import dev.sparkvit.testing.SharedSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(SharedSpark.class) // DLlib's summary writer needs its Engine
class EventFileScalarsTest {
    private static Path writeEvents(Path dir, int steps) throws Exception {
        TrainSummary summary = new TrainSummary(dir.toString(), "run");
        for (int step = 1; step <= steps; step++) {
            summary.addScalar("Loss", 10f / step, step);
            summary.addScalar("Throughput", 100f + step, step);
        }
        summary.close(); // DLlib's writer thread drains its queue and closes the file, asynchronously
        Path train = dir.resolve("run").resolve("train");
        Path file;
        try (Stream<Path> files = Files.list(train)) {
            file = files.filter(f -> f.getFileName().toString().startsWith("bigdl.tfevents.")).findFirst().orElseThrow();
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (EventFileScalars.read(train, "Throughput").size() < steps && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        return file;
    }

    /** DLlib's own reader, as TrainSummary.readScalar calls it (without opening a writer as a TrainSummary does). */
    private static scala.Tuple3<Object, Object, Object>[] dllibRead(Path folder) {
        return com.intel.analytics.bigdl.dllib.visualization.tensorboard.FileReader$.MODULE$.readScalar(
                folder.toString(), "Loss");
    }

    @Test
    void readsWhatDllibsOwnReaderReadsFromACompleteFile(@TempDir Path tmp) throws Exception {
        writeEvents(tmp, 12);
        Path train = tmp.resolve("run").resolve("train");
        List<EventFileScalars.Scalar> ours = EventFileScalars.read(train, "Loss");
        scala.Tuple3<Object, Object, Object>[] dllib = dllibRead(train);
        assertEquals(12, ours.size());
        assertEquals(dllib.length, ours.size());
        for (int i = 0; i < dllib.length; i++) {
            assertEquals((long) (Long) dllib[i]._1(), ours.get(i).step());
            assertEquals((float) (Float) dllib[i]._2(), ours.get(i).value());
            assertEquals(10f / (i + 1), ours.get(i).value());
        }
    }

    @Test
    void aFileCutAnywhereGivesItsCompleteRecordsWhereDllibsReaderThrows(@TempDir Path tmp) throws Exception {
        Path file = writeEvents(tmp.resolve("whole"), 6);
        byte[] bytes = Files.readAllBytes(file);
        Path cut = tmp.resolve("cut").resolve("run").resolve("train");
        Files.createDirectories(cut);
        Path copy = cut.resolve(file.getFileName());
        int previous = 0;
        boolean dllibFailed = false;
        for (int length = 0; length <= bytes.length; length++) {
            Files.write(copy, Arrays.copyOf(bytes, length));
            List<EventFileScalars.Scalar> read = EventFileScalars.read(cut, "Loss");
            // a prefix of the steps, growing with the file, all six once it is whole
            for (int i = 0; i < read.size(); i++) {
                assertEquals(i + 1, read.get(i).step(), "cut at " + length);
            }
            assertTrue(read.size() >= previous, "cut at " + length);
            previous = read.size();
            try {
                dllibRead(cut);
            } catch (Exception | Error e) {
                dllibFailed = true; // DLlib's reader on a record being written: what ended a make bench run
            }
        }
        assertEquals(6, previous);
        assertTrue(dllibFailed, "DLlib's own reader failed on none of the cut files: the test proves nothing");
    }

    @Test
    void aDamagedLengthStopsReadingThatFileOnly(@TempDir Path tmp) throws Exception {
        Path file = writeEvents(tmp, 3);
        byte[] bytes = Files.readAllBytes(file);
        byte[] damaged = Arrays.copyOf(bytes, bytes.length + 8);
        Arrays.fill(damaged, bytes.length, damaged.length, (byte) 0x7f); // a length of about 9e18 after the events
        Files.write(file, damaged);
        assertEquals(3, EventFileScalars.read(tmp.resolve("run").resolve("train"), "Loss").size());
        assertThrows(Throwable.class, () -> dllibRead(tmp.resolve("run").resolve("train")),
                "DLlib's reader fails on it");
    }
}
