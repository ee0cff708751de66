package dev.sparkvit.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.model.io.NamedTensor;
import dev.sparkvit.model.io.SafeTensors;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link CheckpointFormat} in memory: what it encodes decodes to the same checkpoint; what is incomplete is named. */
class CheckpointFormatTest {
    private static final Path FILE = Path.of("iter-000000009/checkpoint.safetensors");

    @Test
    void decodesWhatItEncodes() {
        TrainingCheckpoint original = new TrainingCheckpoint(CheckpointStoreTest.checkpoint(9).progress(),
                CheckpointStoreTest.checkpoint(9).weights(), CheckpointStoreTest.checkpoint(9).ema(), 7,
                CheckpointStoreTest.checkpoint(9).optimizer(), Map.of("seed", "42"), true, List.of(3L, 5L));
        CheckpointFormat.Encoded encoded = CheckpointFormat.encode(original);
        assertEquals("sparkvit-checkpoint-1", encoded.metadata().get("format"));
        assertEquals("3,5", encoded.metadata().get("skipped_iterations"));
        TrainingCheckpoint back = CheckpointFormat.decode(new SafeTensors.Contents(encoded.tensors(),
                encoded.metadata()), FILE);
        assertEquals(original.progress(), back.progress());
        assertArrayEquals(original.weights().get("w").values(), back.weights().get("w").values());
        assertArrayEquals(original.ema().get("w").values(), back.ema().get("w").values());
        assertEquals(7, back.emaUpdates());
        assertTrue(back.emaSkipsNextFold());
        assertEquals(List.of(3L, 5L), back.skippedIterations());
        assertEquals(9, back.optimizer().get("blocks.0").step());
        assertArrayEquals(new float[] {0.1f, 0.2f}, back.optimizer().get("blocks.0").buffers().get("exp_avg"));
        assertEquals(Map.of("seed", "42"), back.run());
        assertEquals(Map.of("seed", "42"), CheckpointFormat.runSettings(encoded.metadata()));
    }

    @Test
    void anEmaWithoutItsWeightsAndAnotherFormatAreNamed() {
        CheckpointFormat.Encoded encoded = CheckpointFormat.encode(CheckpointStoreTest.checkpoint(9));
        Map<String, NamedTensor> tensors = new LinkedHashMap<>(encoded.tensors());
        tensors.put("ema/extra", new NamedTensor(new int[] {1}, new float[] {1}));
        CorruptCheckpointException extra = assertThrows(CorruptCheckpointException.class,
                () -> CheckpointFormat.decode(new SafeTensors.Contents(tensors, encoded.metadata()), FILE));
        assertEquals("checkpoint file " + FILE + " has ema/extra but no model/extra", extra.getMessage());
        Map<String, String> meta = new LinkedHashMap<>(encoded.metadata());
        meta.put("format", "other\u0001");
        CorruptCheckpointException format = assertThrows(CorruptCheckpointException.class,
                () -> CheckpointFormat.decode(new SafeTensors.Contents(encoded.tensors(), meta), FILE));
        assertEquals("checkpoint file " + FILE + " is not a sparkvit-checkpoint-1 file: its metadata format is "
                + "'other?'", format.getMessage());
    }
}
