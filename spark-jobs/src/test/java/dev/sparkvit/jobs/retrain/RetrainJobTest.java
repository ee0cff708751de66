package dev.sparkvit.jobs.retrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.lock.FolderLock;
import dev.sparkvit.lock.LockHeldException;
import dev.sparkvit.testing.SharedSpark;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The retraining pipeline against a real registry folder: the first run promotes, a re-run on the same data trains
 * nothing and promotes nothing, new data trains a candidate warm-started from production that is registered and
 * promoted or rejected by the gate, and a held lock stops a run before it changes anything.
 */
@ExtendWith(SharedSpark.class)
class RetrainJobTest {

    private static RetrainSettings settings(Path tmp, double margin) throws IOException {
        Path finetune = tmp.resolve("finetune.yaml");
        Files.writeString(finetune, "model:\n  preset: vit_nano_patch4_32\n  drop_path_rate: 0.0\n"
                + "  head_init: random\nevaluation:\n  tta_views: [identity, flip]\n");
        String yaml = String.join("\n", "input: " + tmp.resolve("incoming"), "dataset: " + tmp.resolve("dataset"),
                "stored_size: 16", "registry: " + tmp.resolve("registry"), "work_dir: " + tmp.resolve("work"),
                "finetune_config: " + finetune,
                "finetune_set: [data.img_size=16, training.epochs=2, training.batch_size=16, training.warmup_epochs=1]",
                "gate:", "  variant: ema+tta", "  min_improvement: " + margin, "");
        return RetrainConfig.read(YamlConfig.parse("retrain.yaml", new StringReader(yaml)));
    }

    private static RetrainJob.Result run(RetrainSettings settings) {
        return new RetrainJob(settings, new PrintStream(new ByteArrayOutputStream())).execute(SharedSpark.session());
    }

    @Test
    void promotesFirstDoesNothingTwiceAndGatesCandidatesOnNewData(@TempDir Path tmp) throws Exception {
        IncomingImages.arrive(tmp, 8, 4, "a");
        ModelRegistry registry = new ModelRegistry(tmp.resolve("registry"));

        RetrainJob.Result first = run(settings(tmp, 0.01));
        assertEquals(RetrainJob.Outcome.PROMOTED, first.outcome(), "no production model yet: the first promotes");
        assertEquals("v0001", first.version());
        assertEquals("v0001", registry.production().orElseThrow());
        assertEquals(80, first.newImages());

        RetrainJob.Result again = run(settings(tmp, 0.01));
        assertEquals(RetrainJob.Outcome.UNCHANGED, again.outcome(), "same data, config and code");
        assertEquals("v0001", again.version());
        assertEquals(List.of("v0001"), registry.versions(), "nothing registered by the re-run");
        assertEquals(0, again.newImages());

        // new data; a margin no candidate can clear: registered as rejected, production unchanged
        IncomingImages.arrive(tmp, 4, 9, "b");
        RetrainJob.Result rejected = run(settings(tmp, 0.99));
        assertEquals(RetrainJob.Outcome.REJECTED, rejected.outcome());
        assertEquals(List.of("v0001", "v0002"), registry.versions());
        assertEquals("v0001", registry.production().orElseThrow());
        Map<String, Object> info = registry.info("v0002");
        assertEquals("rejected", info.get("status"));
        assertEquals("v0001", info.get("production_version"));
        assertNotNull(info.get("production_score"), "production was scored on the same images");
        assertTrue(String.valueOf(info.get("warm_start")).contains("v0001"), "warm start from production: " + info);
        assertTrue(Files.isRegularFile(registry.versionDir("v0002").resolve("finetuned-ema.safetensors")));
        assertTrue(Files.isRegularFile(registry.versionDir("v0002").resolve("metrics.json")));

        // more data and a margin any candidate clears (-0.99): promoted, and the registry shows every version
        IncomingImages.arrive(tmp, 4, 11, "c");
        RetrainJob.Result promoted = run(settings(tmp, -0.99));
        assertEquals(RetrainJob.Outcome.PROMOTED, promoted.outcome());
        assertEquals("v0003", registry.production().orElseThrow());
        List<String> lines = registry.describe();
        assertEquals(3, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("v0001  promoted") && lines.get(1).startsWith("v0002  rejected")
                && lines.get(2).startsWith("v0003 (production)  promoted"), lines.toString());
        assertEquals(registry.info("v0001").get("code_version"), registry.info("v0003").get("code_version"));
        assertTrue(!registry.info("v0001").get("data_fingerprint")
                .equals(registry.info("v0003").get("data_fingerprint")), "new data, new fingerprint");
        // each version names the snapshot its candidate trained on, which its weights record too
        long current = dev.sparkvit.data.table.DatasetTable.open(new org.apache.hadoop.conf.Configuration(),
                tmp.resolve("dataset").toString()).currentSnapshotId();
        assertEquals(current, ((Number) registry.info("v0003").get("dataset_snapshot")).longValue());
        assertTrue(((Number) registry.info("v0001").get("dataset_snapshot")).longValue() != current);
        assertEquals(String.valueOf(current), dev.sparkvit.model.io.SafeTensors.read(registry.versionDir("v0003")
                .resolve("finetuned-ema.safetensors")).metadata().get("dataset_snapshot"));
        assertTrue(!Files.exists(tmp.resolve("registry").resolve(".lock")), "the lock is released");
    }

    @Test
    void aHeldLockStopsTheRunBeforeItChangesAnything(@TempDir Path tmp) throws Exception {
        IncomingImages.arrive(tmp, 2, 4, "a");
        Path lock = tmp.resolve("registry").resolve(".lock");
        Files.createDirectories(lock.getParent());
        Files.writeString(lock, "pid 1@elsewhere since yesterday\n");
        LockHeldException held = assertThrows(LockHeldException.class, () -> run(settings(tmp, 0.01)));
        assertTrue(held.getMessage().contains("pid 1@elsewhere") && held.getMessage().contains(lock.toString()),
                held.getMessage());
        assertTrue(Files.exists(lock), "another run's lock is not removed");
        assertTrue(!Files.exists(tmp.resolve("dataset")), "nothing was ingested");
        assertEquals(List.of(), new ModelRegistry(tmp.resolve("registry")).versions());
    }

    @Test
    void aManualIngestHoldingTheDatasetLockStopsTheRetrainWithTheLockLine(@TempDir Path tmp) throws Exception {
        IncomingImages.arrive(tmp, 2, 4, "a");
        Path dataset = tmp.resolve("dataset");
        List<String> said = new java.util.ArrayList<>();
        // a manual `sparkvit ingest --incremental` into the retrain's dataset, in progress
        try (FolderLock manual = IngestJob.lock(IngestSettings.defaults(tmp.resolve("incoming").toString(),
                dataset.toString()).withIncremental(true), "--output", new org.apache.hadoop.conf.Configuration(),
                said::add)) {
            LockHeldException held = assertThrows(LockHeldException.class, () -> run(settings(tmp, 0.01)));
            assertTrue(held.getMessage().startsWith("dataset " + dataset + " is locked by another ingest or retrain "
                    + "run (pid " + ProcessHandle.current().pid() + " on "), held.getMessage());
            assertTrue(!held.getMessage().contains("\n"), held.getMessage());
            assertTrue(Files.exists(manual.file()), "the manual run's lock is left alone");
        }
        assertTrue(!Files.exists(dataset.resolve("metadata")), "the retrain ingested nothing (no table)");
        assertEquals(List.of(), new ModelRegistry(tmp.resolve("registry")).versions());
        assertTrue(!Files.exists(tmp.resolve("registry").resolve(".lock")), "the registry lock is released");
        assertEquals(List.of(), said);
    }

    @Test
    void aDamagedRegistryStopsTheRunBeforeItIngestsOrTrainsAnything(@TempDir Path tmp) throws Exception {
        IncomingImages.arrive(tmp, 2, 4, "a");
        Path root = tmp.resolve("registry");
        ModelRegistry registry = RegistryFixture.registry(root, 2);
        Path model = registry.versionDir("v0002").resolve("finetuned-ema.safetensors");
        byte[] valid = Files.readAllBytes(model);
        Files.write(model, java.util.Arrays.copyOf(valid, valid.length / 2));
        Map<String, String> before = RegistryFixture.snapshot(root);
        CorruptRegistryException damaged = assertThrows(CorruptRegistryException.class,
                () -> run(settings(tmp, 0.01)));
        assertTrue(damaged.getMessage().contains("production version v0002 is damaged")
                && damaged.getMessage().contains(model.toString()), damaged.getMessage());
        assertEquals(before, RegistryFixture.snapshot(root), "the registry is unchanged and the lock released");
        assertTrue(!Files.exists(tmp.resolve("dataset")), "nothing was ingested");

        Files.write(model, valid);
        Files.writeString(root.resolve("production"), "../../incoming\n");
        before = RegistryFixture.snapshot(root);
        CorruptRegistryException pointer = assertThrows(CorruptRegistryException.class,
                () -> run(settings(tmp, 0.01)));
        assertTrue(pointer.getMessage().contains(root.resolve("production") + " holds '../../incoming', not a "
                + "version name"), pointer.getMessage());
        assertEquals(before, RegistryFixture.snapshot(root));
        assertTrue(!Files.exists(tmp.resolve("dataset")), "nothing was ingested");
    }
}
