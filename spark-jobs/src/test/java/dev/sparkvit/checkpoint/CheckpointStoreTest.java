package dev.sparkvit.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.engine.DistributedTraining;
import dev.sparkvit.engine.PartitionedOptimizerState;
import dev.sparkvit.model.io.NamedTensor;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointStoreTest {
    private static TrainingCheckpoint checkpoint(long iteration) {
        return new TrainingCheckpoint(new DistributedTraining.Progress(iteration, 1, 32),
                Map.of("w", new NamedTensor(new int[] {2, 2}, new float[] {1, 2, 3, iteration})),
                Map.of("w", new NamedTensor(new int[] {2, 2}, new float[] {0.5f, 1, 1.5f, 2})), iteration,
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
        assertEquals(new DistributedTraining.Progress(15, 1, 32), back.progress());
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
            "refusing to write checkpoint " + dir.resolve("iter-000000006") + ": tensor model/w holds 2 non-finite "
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
