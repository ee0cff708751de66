package dev.sparkvit.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.engine.TrainingProgress;
import dev.sparkvit.engine.PartitionedOptimizerState;
import dev.sparkvit.model.io.NamedTensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pruning deletes whole folders under the checkpoints folder. A symbolic link named like a checkpoint (placed there
 * by hand, or by someone with write access to the run folder) must lose only the link: nothing it points to may be
 * deleted (docs/SECURITY.md, paths).
 */
class CheckpointLinksTest {

    private static TrainingCheckpoint checkpoint(long iteration) {
        return new TrainingCheckpoint(new TrainingProgress(iteration, 1, 8),
                Map.of("w", new NamedTensor(new int[] {2}, new float[] {1, iteration})),
                Map.of("w", new NamedTensor(new int[] {2}, new float[] {1, 2})), iteration,
                Map.of("head", new PartitionedOptimizerState.GroupState(iteration, Map.of())), Map.of("seed", "1"));
    }

    @Test
    void pruningALinkedCheckpointFolderDeletesTheLinkNotWhatItPointsTo(@TempDir Path tmp) throws IOException {
        Path precious = Files.createDirectories(tmp.resolve("precious"));
        Path file = Files.writeString(precious.resolve("data.txt"), "not a checkpoint", StandardCharsets.UTF_8);
        Path nested = Files.createDirectories(precious.resolve("sub"));
        Files.writeString(nested.resolve("more.txt"), "also kept", StandardCharsets.UTF_8);
        Path dir = Files.createDirectories(tmp.resolve("checkpoints"));
        // sorts before every real checkpoint, so it is the first to be pruned
        Path link = Files.createSymbolicLink(dir.resolve("iter-000000000"), precious);

        CheckpointStore store = new CheckpointStore(dir, 1);
        store.write(checkpoint(4));
        store.write(checkpoint(8));

        assertFalse(Files.exists(link, LinkOption.NOFOLLOW_LINKS), "the link was pruned");
        assertTrue(Files.isRegularFile(file), "the linked folder's files are intact");
        assertEquals("not a checkpoint", Files.readString(file, StandardCharsets.UTF_8));
        assertTrue(Files.isRegularFile(nested.resolve("more.txt")), "and its sub-folders'");
        assertEquals(8, store.latest().orElseThrow().progress().iterations());
    }
}
