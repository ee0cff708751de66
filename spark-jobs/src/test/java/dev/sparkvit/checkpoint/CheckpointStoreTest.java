package dev.sparkvit.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.engine.TrainingProgress;
import dev.sparkvit.engine.PartitionedOptimizerState;
import dev.sparkvit.model.io.NamedTensor;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointStoreTest {
    static TrainingCheckpoint checkpoint(long iteration) {
        return checkpoint(iteration, iteration);
    }

    /** A checkpoint of {@code iteration} whose EMA update count is {@code emaUpdates} (to tell two apart). */
    static TrainingCheckpoint checkpoint(long iteration, long emaUpdates) {
        return new TrainingCheckpoint(new TrainingProgress(iteration, 1, 32),
                Map.of("w", new NamedTensor(new int[] {2, 2}, new float[] {1, 2, 3, iteration})),
                Map.of("w", new NamedTensor(new int[] {2, 2}, new float[] {0.5f, 1, 1.5f, 2})), emaUpdates,
                Map.of("blocks.0", new PartitionedOptimizerState.GroupState(iteration,
                        Map.of("exp_avg", new float[] {0.1f, 0.2f}, "exp_avg_sq", new float[] {0.3f, 0.4f})),
                        "head", new PartitionedOptimizerState.GroupState(0, Map.of())),
                Map.of("seed", "42"));
    }

    @Test
    void roundTripsEverythingAndKeepsTheNewest(@TempDir Path dir) {
        CheckpointStore store = new CheckpointStore(dir, 2);
        for (long i : new long[] {5, 10, 15}) {
            store.write(checkpoint(i));
        }
        assertEquals(2, store.list().size(), "the oldest beyond keep=2 is pruned");
        TrainingCheckpoint back = store.latest().orElseThrow();
        assertEquals(new TrainingProgress(15, 1, 32), back.progress());
        assertArrayEquals(new float[] {1, 2, 3, 15}, back.weights().get("w").values());
        assertArrayEquals(new float[] {0.5f, 1, 1.5f, 2}, back.ema().get("w").values());
        assertEquals(15, back.emaUpdates());
        assertEquals(15, back.optimizer().get("blocks.0").step());
        assertArrayEquals(new float[] {0.3f, 0.4f}, back.optimizer().get("blocks.0").buffers().get("exp_avg_sq"));
        assertTrue(back.optimizer().get("head").buffers().isEmpty());
        assertEquals("42", back.run().get("seed"));
    }

    @Test
    void aFlippedByteIsCaughtAndTheFileNamed(@TempDir Path dir) throws IOException {
        CheckpointStore store = new CheckpointStore(dir, 3);
        Path written = store.write(checkpoint(7));
        Path data = written.resolve("checkpoint.safetensors");
        try (FileChannel channel = FileChannel.open(data, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            long at = channel.size() - 3;
            channel.read(one, at);
            one.put(0, (byte) (one.get(0) ^ 0x10)).rewind();
            channel.write(one, at);
        }
        CorruptCheckpointException e = assertThrows(CorruptCheckpointException.class, store::latest);
        assertTrue(e.getMessage().contains(data.toString()) && e.getMessage().contains("SHA-256"), e.getMessage());
    }

    @Test
    void anInterruptedWriteLeavesNoCheckpoint(@TempDir Path dir) throws IOException {
        CheckpointStore store = new CheckpointStore(dir, 3);
        store.write(checkpoint(3));
        // what a crash during write leaves: a temporary folder with a partial file
        Path partial = dir.resolve(".tmp-iter-000000006-1");
        Files.createDirectories(partial);
        Files.write(partial.resolve("checkpoint.safetensors"), new byte[] {1, 2, 3});
        assertEquals(3, store.latest().orElseThrow().progress().iterations(), "the partial write is never loaded");
        Path missingSum = dir.resolve("iter-000000009");
        Files.createDirectories(missingSum);
        Files.write(missingSum.resolve("checkpoint.safetensors"), new byte[] {1});
        CorruptCheckpointException e = assertThrows(CorruptCheckpointException.class, store::latest);
        assertTrue(e.getMessage().contains("incomplete"), e.getMessage());
    }

    /** Every file of a folder with its bytes, to show that a kept checkpoint is unchanged. */
    private static Map<String, byte[]> contents(Path folder) throws IOException {
        Map<String, byte[]> files = new java.util.TreeMap<>();
        try (var walk = Files.list(folder)) {
            for (Path file : walk.toList()) {
                files.put(file.getFileName().toString(), Files.readAllBytes(file));
            }
        }
        return files;
    }

    private static void assertSameFiles(Map<String, byte[]> expected, Path folder) throws IOException {
        Map<String, byte[]> actual = contents(folder);
        assertEquals(expected.keySet(), actual.keySet(), folder.toString());
        expected.forEach((name, bytes) -> assertArrayEquals(bytes, actual.get(name), folder + "/" + name));
    }

    private static void truncate(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length / 2));
    }

    @Test
    void failStopsAtTheCorruptNewestCheckpointAndChangesNothing(@TempDir Path dir) throws IOException {
        CheckpointStore store = new CheckpointStore(dir, 5);
        store.write(checkpoint(3));
        Path newest = store.write(checkpoint(6));
        truncate(newest.resolve("checkpoint.safetensors"));
        Map<String, byte[]> before = contents(newest);
        List<String> warnings = new java.util.ArrayList<>();
        CorruptCheckpointException e = assertThrows(CorruptCheckpointException.class,
                () -> store.latest(CheckpointStore.OnCorrupt.FAIL, warnings::add));
        assertTrue(e.getMessage().contains(newest.resolve("checkpoint.safetensors").toString()), e.getMessage());
        assertEquals(List.of(newest, dir.resolve("iter-000000003")), store.list(), "nothing renamed");
        assertSameFiles(before, newest);
        assertEquals(List.of(), warnings);
    }

    @Test
    void previousSkipsCorruptCheckpointsKeepsThemAsideAndResumesFromTheNewestValid(@TempDir Path dir)
            throws IOException {
        CheckpointStore store = new CheckpointStore(dir, 5);
        store.write(checkpoint(3));
        Path six = store.write(checkpoint(6));
        Path nine = store.write(checkpoint(9));
        truncate(nine.resolve("checkpoint.safetensors"));
        Files.writeString(six.resolve("checkpoint.sha256"), "garbage\n");
        Map<String, byte[]> nineBefore = contents(nine);
        Map<String, byte[]> sixBefore = contents(six);

        List<String> warnings = new java.util.ArrayList<>();
        TrainingCheckpoint resumed = store.latest(CheckpointStore.OnCorrupt.PREVIOUS, warnings::add).orElseThrow();
        assertEquals(3, resumed.progress().iterations(), "the newest valid checkpoint");
        assertEquals(2, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains(nine.resolve("checkpoint.safetensors").toString())
                && warnings.get(0).contains("kept as " + dir.resolve("corrupt-iter-000000009")), warnings.get(0));
        assertTrue(warnings.get(1).contains(six.resolve("checkpoint.sha256").toString())
                && warnings.get(1).contains("kept as " + dir.resolve("corrupt-iter-000000006")), warnings.get(1));
        assertSameFiles(nineBefore, dir.resolve("corrupt-iter-000000009"));
        assertSameFiles(sixBefore, dir.resolve("corrupt-iter-000000006"));
        assertEquals(List.of(dir.resolve("iter-000000003")), store.list());

        // the resumed run passes iterations 6 and 9 again: new checkpoints, the corrupt ones untouched
        store.write(checkpoint(6));
        store.write(checkpoint(9));
        assertEquals(9, store.latest().orElseThrow().progress().iterations());
        assertSameFiles(nineBefore, dir.resolve("corrupt-iter-000000009"));
        assertSameFiles(sixBefore, dir.resolve("corrupt-iter-000000006"));
    }

    @Test
    void previousWithEveryCheckpointCorruptIsAnErrorAndKeepsThemAll(@TempDir Path dir) throws IOException {
        CheckpointStore store = new CheckpointStore(dir, 5);
        Path three = store.write(checkpoint(3));
        Files.delete(three.resolve("checkpoint.sha256"));
        CorruptCheckpointException e = assertThrows(CorruptCheckpointException.class,
                () -> store.latest(CheckpointStore.OnCorrupt.PREVIOUS, line -> { }));
        assertTrue(e.getMessage().contains("every checkpoint in " + dir + " is corrupt")
                && e.getMessage().contains("corrupt-iter-000000003"), e.getMessage());
        assertTrue(Files.isRegularFile(dir.resolve("corrupt-iter-000000003").resolve("checkpoint.safetensors")));
    }

    @Test
    void pruningDeletesOnlyVerifiedCheckpointsAndKeepsCorruptOnesAside(@TempDir Path dir) throws IOException {
        CheckpointStore store = new CheckpointStore(dir, 2);
        Path three = store.write(checkpoint(3));
        store.write(checkpoint(6));
        byte[] bytes = Files.readAllBytes(three.resolve("checkpoint.safetensors"));
        bytes[bytes.length - 1] ^= 1;
        Files.write(three.resolve("checkpoint.safetensors"), bytes);
        Map<String, byte[]> before = contents(three);
        store.write(checkpoint(9)); // iter-3 is beyond keep = 2: corrupt, so renamed, not deleted
        assertEquals(List.of(dir.resolve("iter-000000009"), dir.resolve("iter-000000006")), store.list());
        assertSameFiles(before, dir.resolve("corrupt-iter-000000003"));
        store.write(checkpoint(12)); // iter-6 is valid: deleted
        assertEquals(List.of(dir.resolve("iter-000000012"), dir.resolve("iter-000000009")), store.list());
        assertTrue(!Files.exists(dir.resolve("iter-000000006")));
        assertSameFiles(before, dir.resolve("corrupt-iter-000000003"));
    }

    @Test
    void aSecondCheckpointOfTheSameIterationNeverReplacesTheFirstInPlace(@TempDir Path dir) throws IOException {
        CheckpointStore store = new CheckpointStore(dir, 3);
        Path first = store.write(checkpoint(9, 100));
        Map<String, byte[]> before = contents(first);
        Path second = store.write(checkpoint(9, 200));
        // the old store deleted iter-9 before renaming the new one into place: a crash between lost both
        assertEquals(dir.resolve("iter-000000009.1"), second);
        assertEquals(List.of(second, first), store.list(), "the second sorts after the first");
        assertSameFiles(before, first);
        assertEquals(200, store.latest().orElseThrow().emaUpdates());
        Path third = store.write(checkpoint(10));
        assertEquals(List.of(third, second, first), store.list());

        CheckpointStore one = new CheckpointStore(dir.resolve("one"), 1);
        one.write(checkpoint(9, 100));
        Path again = one.write(checkpoint(9, 200));
        assertEquals(List.of(again), one.list(), "with keep = 1 the first is pruned, after the second is in place");
        assertEquals(200, one.latest().orElseThrow().emaUpdates());
    }

    @Test
    void skippedStepsAndThePendingEmaFoldRoundTrip(@TempDir Path dir) {
        TrainingCheckpoint plain = checkpoint(12);
        TrainingCheckpoint withSkips = new TrainingCheckpoint(plain.progress(), plain.weights(), plain.ema(),
                plain.emaUpdates(), plain.optimizer(), plain.run(), true, java.util.List.of(3L, 11L));
        TrainingCheckpoint back = CheckpointStore.read(new CheckpointStore(dir, 3).write(withSkips));
        assertEquals(java.util.List.of(3L, 11L), back.skippedIterations());
        assertTrue(back.emaSkipsNextFold());
        TrainingCheckpoint none = CheckpointStore.read(new CheckpointStore(dir.resolve("b"), 3).write(plain));
        assertEquals(java.util.List.of(), none.skippedIterations());
        assertTrue(!none.emaSkipsNextFold());
    }

    /** A poisoned state never replaces good checkpoints: every tensor kind is checked before anything is touched. */
    @Test
    void nonFiniteTensorsAreRefusedAndTheExistingCheckpointsKept(@TempDir Path dir) throws IOException {
        CheckpointStore store = new CheckpointStore(dir, 1);
        Path good = store.write(checkpoint(4));
        byte[] goodBytes = Files.readAllBytes(good.resolve("checkpoint.safetensors"));
        TrainingCheckpoint base = checkpoint(6);
        Map<String, NamedTensor> nanWeights = Map.of("w", new NamedTensor(new int[] {2, 2},
                new float[] {1, Float.NaN, 3, Float.NaN}));
        Map<String, NamedTensor> infEma = Map.of("w", new NamedTensor(new int[] {2, 2},
                new float[] {0, 0, Float.NEGATIVE_INFINITY, 0}));
        Map<String, PartitionedOptimizerState.GroupState> nanMoments = Map.of("blocks.0",
                new PartitionedOptimizerState.GroupState(6, Map.of("exp_avg", new float[] {Float.NaN, 0})));
        String[] expected = {
            "refusing to write checkpoint of iteration 6 in " + dir + ": tensor model/w holds 2 non-finite "
                    + "values of 4 (the first, NaN, at element 1); nothing was written",
            "tensor ema/w holds 1 non-finite value of 4 (the first, -Infinity, at element 2)",
            "tensor optim/blocks.0/exp_avg holds 1 non-finite value of 2 (the first, NaN, at element 0)"};
        TrainingCheckpoint[] poisoned = {
            new TrainingCheckpoint(base.progress(), nanWeights, base.ema(), 6, base.optimizer(), base.run()),
            new TrainingCheckpoint(base.progress(), base.weights(), infEma, 6, base.optimizer(), base.run()),
            new TrainingCheckpoint(base.progress(), base.weights(), base.ema(), 6, nanMoments, base.run())};
        for (int i = 0; i < poisoned.length; i++) {
            TrainingCheckpoint bad = poisoned[i];
            dev.sparkvit.model.io.NonFiniteValuesException refused = assertThrows(
                    dev.sparkvit.model.io.NonFiniteValuesException.class, () -> store.write(bad));
            assertTrue(refused.getMessage().contains(expected[i]), refused.getMessage());
            // keep = 1: a written iter-6 would have pruned iter-4
            assertEquals(java.util.List.of(good), store.list());
            assertArrayEquals(goodBytes, Files.readAllBytes(good.resolve("checkpoint.safetensors")));
            try (var entries = Files.list(dir)) {
                assertEquals(1, entries.count(), "no temporary folder left behind");
            }
        }
    }
}
