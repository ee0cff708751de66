package dev.sparkvit.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.checkpoint.CheckpointStore;
import dev.sparkvit.checkpoint.CorruptCheckpointException;
import dev.sparkvit.checkpoint.TrainingCheckpoint;
import dev.sparkvit.config.ConfigException;
import dev.sparkvit.engine.TrainingProgress;
import dev.sparkvit.model.io.NamedTensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where a resumed run starts when its newest checkpoint is corrupt: on_corrupt fail and previous. */
class RunStateTest {
    private static final Map<String, String> RUN = Map.of("seed", "42", "engine", RunState.ENGINE);

    private static TrainingCheckpoint checkpoint(long iteration) {
        NamedTensor w = new NamedTensor(new int[] {2}, new float[] {1, iteration});
        return new TrainingCheckpoint(new TrainingProgress(iteration, 0, 0), Map.of("w", w),
                Map.of("w", w), iteration, Map.of(), RUN);
    }

    private static CheckpointStore storeWithCorruptNewest(Path dir) throws Exception {
        CheckpointStore store = new CheckpointStore(dir, 3);
        store.write(checkpoint(4));
        Path newest = store.write(checkpoint(8));
        Files.write(newest.resolve("checkpoint.safetensors"), new byte[] {1, 2, 3});
        return store;
    }

    @Test
    void failNamesTheFileAndSaysHowToResumeFromThePreviousCheckpoint(@TempDir Path dir) throws Exception {
        CheckpointStore store = storeWithCorruptNewest(dir);
        CorruptCheckpointException e = assertThrows(CorruptCheckpointException.class, () -> RunState.startingPoint(
                store, true, dir.toString(), "conf/pretrain.yaml", RUN, CheckpointStore.OnCorrupt.FAIL, line -> { }));
        assertTrue(e.getMessage().contains(dir.resolve("iter-000000008").resolve("checkpoint.safetensors") + " is "
                + "corrupt") && e.getMessage().contains("training.checkpoint.on_corrupt: previous (conf/pretrain.yaml"),
                e.getMessage());
        assertEquals(2, store.list().size(), "nothing moved");
    }

    @Test
    void previousResumesFromTheNewestValidCheckpointWithAWarningLine(@TempDir Path dir) throws Exception {
        CheckpointStore store = storeWithCorruptNewest(dir);
        List<String> warnings = new ArrayList<>();
        TrainingCheckpoint start = RunState.startingPoint(store, true, dir.toString(), "x.yaml", RUN,
                CheckpointStore.OnCorrupt.PREVIOUS, warnings::add);
        assertEquals(4, start.progress().iterations());
        assertEquals(1, warnings.size());
        assertTrue(warnings.get(0).contains("iter-000000008") && warnings.get(0).contains("corrupt-iter-000000008"),
                warnings.get(0));
        // a fresh run is still refused: the folder holds a run's checkpoints
        assertThrows(IllegalArgumentException.class, () -> RunState.startingPoint(store, false, dir.toString(), "x.yaml", RUN,
                CheckpointStore.OnCorrupt.PREVIOUS, warnings::add));
    }

    @Test
    void previousWithNothingValidLeftSaysToStartAgain(@TempDir Path dir) throws Exception {
        CheckpointStore store = new CheckpointStore(dir, 3);
        Path only = store.write(checkpoint(8));
        Files.writeString(only.resolve("checkpoint.sha256"), "");
        CorruptCheckpointException e = assertThrows(CorruptCheckpointException.class, () -> RunState.startingPoint(
                store, true, dir.toString(), "x.yaml", RUN, CheckpointStore.OnCorrupt.PREVIOUS, line -> { }));
        assertTrue(e.getMessage().contains("start again without --resume"), e.getMessage());
    }

    @Test
    void aCheckpointTensorOfTheRightSizeButTheWrongShapeIsRefusedNamingBothShapes() {
        var vit = dev.sparkvit.model.vit.VisionTransformer.classifier(
                dev.sparkvit.model.vit.VitPresets.get("vit_nano_patch4_32").withImgSize(16), 3, 1);
        Map<String, NamedTensor> weights = new java.util.LinkedHashMap<>();
        vit.namedParameters().forEach((name, t) -> weights.put(name, new NamedTensor(
                dev.sparkvit.engine.Tensors.shape(t), dev.sparkvit.engine.Tensors.toArray(t))));
        NamedTensor head = weights.get("head.weight");
        weights.put("head.weight", new NamedTensor(new int[] {head.shape()[1], head.shape()[0]}, head.values()));
        TrainingCheckpoint checkpoint = new TrainingCheckpoint(new TrainingProgress(6, 0, 0), weights,
                weights, 6, Map.of(), RUN);
        CorruptCheckpointException e = assertThrows(CorruptCheckpointException.class, () -> RunState.restoreLive(
                checkpoint, vit));
        assertEquals("checkpoint of iteration 6: head.weight has shape [64, 3], this model's is [3, 64]",
                e.getMessage());
    }

    /**
     * A DistriOptimizer run's fingerprint has no engine key (DLlib's engine, removed): its checkpoints are refused in
     * one line saying so; a barrier run's resume.
     */
    @Test
    void aDistriOptimizerCheckpointIsRefusedInOneLine() {
        Map<String, String> barrier = Map.of("seed", "1", "engine", RunState.ENGINE);
        ConfigException distri = assertThrows(ConfigException.class,
                () -> RunState.requireSameRun("run.yaml", barrier, Map.of("seed", "1")));
        assertEquals("run.yaml: --resume: the checkpoint was written by the DistriOptimizer engine, which sparkvit no "
                + "longer has; start the run again without --resume", distri.getMessage());
        RunState.requireSameRun("run.yaml", barrier, barrier);
        ConfigException seed = assertThrows(ConfigException.class, () -> RunState.requireSameRun("run.yaml",
                barrier, Map.of("seed", "2", "engine", RunState.ENGINE)));
        assertEquals("run.yaml: --resume needs the settings the run started with; changed: seed 2 -> 1",
                seed.getMessage());
    }

    /**
     * The dataset snapshot is part of a run's settings: a resume on another snapshot is refused naming both; a
     * checkpoint of a sparkvit that recorded none resumes (on the current snapshot).
     */
    @Test
    void aResumeOnAnotherSnapshotIsRefusedAndACheckpointWithoutOneResumes() {
        Map<String, String> saved = Map.of("seed", "1", "engine", RunState.ENGINE, RunState.DATASET_SNAPSHOT, "7");
        Map<String, String> now = RunState.withSnapshot(Map.of("seed", "1", "engine", RunState.ENGINE),
                new dev.sparkvit.data.ingest.DatasetSnapshot("ds", 8));
        ConfigException other = assertThrows(ConfigException.class, () -> RunState.requireSameRun("run.yaml", now,
                saved));
        assertEquals("run.yaml: --resume needs the settings the run started with; changed: dataset_snapshot 7 -> 8",
                other.getMessage());
        RunState.requireSameRun("run.yaml", now, Map.of("seed", "1", "engine", RunState.ENGINE));
    }

    /** A resume learns its snapshot from the newest checkpoint whose header reads, before any checkpoint is loaded. */
    @Test
    void theRecordedRunComesFromTheNewestReadableCheckpointHeader(@TempDir Path dir) throws Exception {
        CheckpointStore store = new CheckpointStore(dir, 3);
        assertTrue(store.recordedRun().isEmpty());
        Map<String, String> run = Map.of("seed", "1", "engine", RunState.ENGINE, RunState.DATASET_SNAPSHOT, "7");
        Path older = store.write(checkpointOf(1, run));
        Path newest = store.write(checkpointOf(2, run));
        assertEquals(run, store.recordedRun().orElseThrow());
        Files.write(newest.resolve("checkpoint.safetensors"), new byte[] {1, 2, 3}); // header gone
        assertEquals(run, store.recordedRun().orElseThrow(), "from " + older);
    }

    private static TrainingCheckpoint checkpointOf(long iteration, Map<String, String> run) {
        Map<String, NamedTensor> weights = Map.of("w", new NamedTensor(
                new int[] {2}, new float[] {1, 2}));
        return new TrainingCheckpoint(new TrainingProgress(iteration, 0,
                0), weights, weights, iteration, Map.of(), run);
    }
}
