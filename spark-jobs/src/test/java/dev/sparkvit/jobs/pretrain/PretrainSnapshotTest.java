package dev.sparkvit.jobs.pretrain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.checkpoint.CheckpointStore;
import dev.sparkvit.config.ConfigException;
import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.data.table.DatasetTable;
import dev.sparkvit.data.table.TwoSnapshots;
import dev.sparkvit.jobs.train.RunState;
import dev.sparkvit.model.io.SafeTensors;
import dev.sparkvit.provenance.CodeVersion;
import dev.sparkvit.provenance.WeightsProvenance;
import dev.sparkvit.testing.SharedSpark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pretraining run reads the dataset snapshot it started on (issue 22): a run stopped at iteration 2, resumed after
 * an ingest committed 60 more images, ends bit-identical to the uninterrupted run on the first snapshot (it read the
 * new one before: more iterations per epoch, other batches); a fresh run given that older snapshot
 * ({@code --snapshot}) is the same run again; a run on the current snapshot is another. The checkpoints and the
 * weights record the snapshot, the code version and the settings' hash; a resume whose snapshot has expired is one
 * line. The run: 16-px images, one epoch of batch 16, checkpoints every 2 iterations.
 */
@ExtendWith(SharedSpark.class)
class PretrainSnapshotTest {

    private static PretrainSettings settings(String dataset, Path out) {
        List<String> sets = new ArrayList<>(List.of("data.dataset=" + dataset, "data.img_size=16", "output_dir=" + out,
                "training.epochs=1", "training.batch_size=16", "training.learning_rate=0.002",
                "training.warmup_epochs=0", "training.ema.decay=0.9", "training.checkpoint.every_iterations=2",
                "training.checkpoint.keep=10", "temperature=0.2", "projection_dim=16"));
        return PretrainConfig.read(YamlConfig.parse("test.yaml", new StringReader("")).with(sets));
    }

    private static PretrainResult run(PretrainJob job) {
        return job.execute(SharedSpark.session());
    }

    private static PretrainJob job(String dataset, Path out, boolean resume) {
        return new PretrainJob(settings(dataset, out), resume, new PrintStream(new ByteArrayOutputStream(), true));
    }

    private static byte[] finalCheckpoint(Path out) throws Exception {
        try (Stream<Path> folders = Files.list(out.resolve("checkpoints"))) {
            Path last = folders.filter(p -> p.getFileName().toString().startsWith("iter-")).sorted()
                    .reduce((a, b) -> b).orElseThrow();
            return Files.readAllBytes(last.resolve("checkpoint.safetensors"));
        }
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }

    @Test
    void aRunReadsTheSnapshotItStartedOnAcrossAnIngestAndAResume(@TempDir Path tmp) throws Exception {
        Path raw = tmp.resolve("raw");
        new SyntheticImageFolder(16, 12, 4).writeTo(raw);
        String dataset = tmp.resolve("ds").toString();
        new IngestJob(IngestSettings.defaults(raw.toString(), dataset).withStoredSize(16))
                .execute(SharedSpark.session());
        long first = TwoSnapshots.current(dataset);

        PretrainResult clean = run(job(dataset, tmp.resolve("clean"), false));
        Path resumed = tmp.resolve("resumed");
        run(job(dataset, resumed, false).stopAfter(2));
        Map<String, String> recorded = new CheckpointStore(resumed.resolve("checkpoints"), 10).recordedRun()
                .orElseThrow();
        assertEquals(String.valueOf(first), recorded.get(RunState.DATASET_SNAPSHOT), recorded.toString());
        copyTree(resumed.resolve("checkpoints"), tmp.resolve("expired").resolve("checkpoints"));

        // another ingest commits 60 new images (6 per class) while the run is stopped
        long second = TwoSnapshots.more(tmp, dataset).second();
        assertNotEquals(first, second);

        PretrainResult continued = run(job(dataset, resumed, true));
        assertArrayEquals(finalCheckpoint(tmp.resolve("clean")), finalCheckpoint(resumed),
                "the resumed run trained on the snapshot it started on, bit for bit");
        assertArrayEquals(Files.readAllBytes(clean.weights()), Files.readAllBytes(continued.weights()));

        // --snapshot: a fresh run on the older snapshot is the same run; one on the current snapshot is another
        PretrainResult pinned = run(job(dataset, tmp.resolve("pinned"), false).snapshot(first));
        assertArrayEquals(finalCheckpoint(tmp.resolve("clean")), finalCheckpoint(tmp.resolve("pinned")));
        PretrainResult current = run(job(dataset, tmp.resolve("current"), false));
        assertTrue(current.iterationLosses().length > pinned.iterationLosses().length, "more train images now: "
                + current.iterationLosses().length + " iterations against " + pinned.iterationLosses().length);

        // the weights' identity: code, settings, dataset, snapshot
        Map<String, String> meta = SafeTensors.read(continued.weights()).metadata();
        assertEquals(CodeVersion.current(), meta.get(WeightsProvenance.CODE_VERSION));
        assertEquals(WeightsProvenance.configSha256(settings(dataset, resumed).fingerprint()),
                meta.get(WeightsProvenance.CONFIG_SHA256));
        assertEquals(64, meta.get(WeightsProvenance.CONFIG_SHA256).length());
        assertEquals(dataset, meta.get(WeightsProvenance.DATASET));
        assertEquals(String.valueOf(first), meta.get(WeightsProvenance.DATASET_SNAPSHOT));
        assertEquals(String.valueOf(second), SafeTensors.read(current.weights()).metadata()
                .get(WeightsProvenance.DATASET_SNAPSHOT));

        // the first snapshot expires: a resume that needs it is refused in one line
        DatasetTable.open(new Configuration(), dataset).table().expireSnapshots().expireSnapshotId(first).commit();
        ConfigException expired = assertThrows(ConfigException.class,
                () -> run(job(dataset, tmp.resolve("expired"), true)));
        assertEquals(1, expired.getMessage().lines().count(), expired.getMessage());
        assertTrue(expired.getMessage().contains("--resume: the run's checkpoints read dataset " + dataset
                + " at snapshot " + first + ", which its table no longer has (expired)"), expired.getMessage());
    }
}
