package dev.sparkvit.jobs.pretrain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.checkpoint.CheckpointStore;
import dev.sparkvit.checkpoint.CorruptCheckpointException;
import dev.sparkvit.checkpoint.TrainingCheckpoint;
import dev.sparkvit.config.ConfigException;
import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.model.io.NamedTensor;
import dev.sparkvit.model.io.SafeTensors;
import dev.sparkvit.model.io.VitWeights;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitPresets;
import dev.sparkvit.testing.SharedSpark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pretraining job end to end on a small ingested dataset on local[2] (global NT-Xent, 2B - 2 negatives per view):
 * FreezeOut, EMA, weight decay, clipping, monitoring, checkpoints, and a run interrupted mid-epoch and resumed that
 * ends bit-identical to an uninterrupted one, with the same losses and probe.
 */
@ExtendWith(SharedSpark.class)
class PretrainJobTest {
    @TempDir
    static Path shared;
    private static String dataset;

    @BeforeAll
    static void ingest() {
        Path raw = shared.resolve("raw");
        new SyntheticImageFolder(16, 12, 4).writeTo(raw);
        dataset = shared.resolve("ds").toString();
        new IngestJob(IngestSettings.defaults(raw.toString(), dataset).withStoredSize(16))
                .execute(SharedSpark.session());
    }

    /**
     * 3 epochs of batch 16 with FreezeOut, LayerScale (off in the 4-block preset: turned on here so that its gammas
     * are trained, saved and moved), a checkpoint every 4 iterations and a probe after epoch 2.
     */
    static PretrainSettings settings(Path out, String... more) {
        return settings(out.toString(), more);
    }

    /** {@link #settings(Path, String...)} with output_dir a local path or a Hadoop URI. */
    static PretrainSettings settings(String out, String... more) {
        List<String> sets = new ArrayList<>(List.of("data.dataset=" + dataset, "data.img_size=16", "output_dir=" + out,
                "training.epochs=3", "training.batch_size=16", "training.learning_rate=0.002",
                "training.warmup_epochs=1", "training.weight_decay=0.05", "training.clip_grad_norm=1.0",
                "training.freezeout.enabled=true", "training.ema.decay=0.99", "training.checkpoint.every_iterations=4",
                "training.probe_every_epochs=2", "temperature=0.2", "projection_dim=32", "model.layer_scale=0.1"));
        sets.addAll(List.of(more));
        return PretrainConfig.read(YamlConfig.parse("test.yaml", new StringReader("")).with(sets));
    }

    private static PretrainResult run(PretrainSettings settings, boolean resume, long stopAfter) {
        PretrainJob job = new PretrainJob(settings, resume, new PrintStream(new ByteArrayOutputStream()));
        if (stopAfter > 0) {
            job.stopAfter(stopAfter);
        }
        return job.execute(SharedSpark.session());
    }

    @Test
    void pretrainsWithFreezeOutAndEmaThenProbesAndReports(@TempDir Path tmp) throws Exception {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        PretrainResult result = new PretrainJob(settings(tmp), false, new PrintStream(console, true))
                .execute(SharedSpark.session());

        assertEquals(30, result.negativesPerAnchor(), "global NT-Xent: 16 images, 32 views, 2B - 2 negatives");
        String first = console.toString().lines().findFirst().orElse("");
        assertTrue(first.contains("global NT-Xent: 30 negatives per view") && first.contains("on 2 barrier tasks"),
                "first line: " + first);
        for (float loss : result.iterationLosses()) {
            assertTrue(Float.isFinite(loss) && loss > 0, "NT-Xent " + loss);
        }
        String lines = console.toString();
        assertTrue(lines.contains("epoch 1/3") && lines.contains("epoch 3/3") && lines.contains("ETA"), lines);
        assertTrue(lines.contains("probe pooled"), "epoch 2 and the last epoch probe: " + lines);
        // the collapse monitor: the chance value on the header (the global batch of 16: ln 31) and a cosine per epoch
        assertTrue(lines.contains("chance %.4f".formatted(Math.log(31))) && lines.contains("LayerScale 0.1"), lines);
        for (PretrainMonitor.Epoch epoch : result.epochs()) {
            assertTrue(epoch.projectionCosine() > -1 && epoch.projectionCosine() < 1, "cosine " + epoch);
        }
        assertTrue(lines.matches("(?s).*epoch 3/3 .* cos -?[01]\\.\\d{3}.*"), lines);
        assertEquals(3, result.epochs().size());
        assertNull(result.epochs().get(0).probe());
        assertTrue(result.epochs().get(1).probe() != null && result.epochs().get(2).probe() != null);
        assertTrue(result.pretrainedProbe().valImages() > 0);
        assertTrue(Files.size(result.curves()) > 1000, "the curves PNG is written");
        assertTrue(javax.imageio.ImageIO.read(result.curves().toFile()).getWidth() > 500);
        assertEquals(3, new CheckpointStore(tmp.resolve("checkpoints"), 3).list().size(), "keep 3 checkpoints");
        // the last checkpoint holds the real EMA (every iteration's weights and the final ones folded in), and the
        // saved pretrained-ema weights are it, not the live weights
        TrainingCheckpoint last = new CheckpointStore(tmp.resolve("checkpoints"), 3).latest().orElseThrow();
        assertEquals(result.iterationLosses().length, last.progress().iterations());
        assertEquals(last.progress().iterations() + 1, last.emaUpdates(), "a fold before each iteration, and the final");
        assertTrue(last.weights().keySet().stream().anyMatch(n -> n.contains("bn1")),
                "the projection head's BatchNorm (projection_norm: batch) is trained: " + last.weights().keySet());
        int compared = 0;
        int differing = 0;
        for (Map.Entry<String, NamedTensor> entry : SafeTensors.read(result.weights()).tensors().entrySet()) {
            NamedTensor ema = last.ema().get(entry.getKey());
            if (ema != null) {
                compared++;
                assertArrayEquals(ema.values(), entry.getValue().values(), entry.getKey() + ": saved and checkpoint EMA");
                differing += Arrays.equals(ema.values(), last.weights().get(entry.getKey()).values()) ? 0 : 1;
            }
        }
        assertTrue(compared > 0 && differing == compared, differing + " of " + compared
                + " saved tensors differ from the live weights");

        VisionTransformer classifier = VisionTransformer.classifier(VitPresets.get("vit_nano_patch4_32")
                .withImgSize(16).withLayerScale(true, 0.1), 10, 1);
        VitWeights.ImportReport report = VitWeights.load(classifier, result.weights(), VitWeights.Match.SHARED);
        assertTrue(report.loaded().contains("blocks.3.ls2.gamma"), "the encoder moves into a classifier");
        VisionTransformer initial = VisionTransformer.encoderOnly(VitPresets.get("vit_nano_patch4_32")
                .withImgSize(16).withLayerScale(true, 0.1), 42);
        float[] saved = SafeTensors.read(result.weights()).tensors().get("blocks.3.mlp.fc2.weight").values();
        float[] start = dev.sparkvit.engine.Tensors.toArray(initial.namedParameters().get("blocks.3.mlp.fc2.weight"));
        assertTrue(!java.util.Arrays.equals(saved, start), "the saved EMA weights moved away from the initial ones");
        try (var files = Files.walk(tmp.resolve("tensorboard"))) {
            assertTrue(files.anyMatch(f -> f.getFileName().toString().contains("tfevents")));
        }
        // the linear-probe command's encoder, from the weights file and from the newest checkpoint's EMA
        for (Path source : List.of(result.weights(), tmp.resolve("checkpoints"))) {
            VisionTransformer encoder = dev.sparkvit.jobs.probe.ProbeEncoder.load(source, null, 16);
            assertEquals(result.pretrainedProbe(), dev.sparkvit.jobs.probe.LinearProbe.run(SharedSpark.session(),
                    encoder, dataset, dev.sparkvit.data.ingest.StoredImages.normalization(
                            dev.sparkvit.data.ingest.StoredImages.manifest(SharedSpark.session(), dataset))),
                    source.toString());
        }
    }

    @Test
    void aRunInterruptedAndResumedEndsWithTheUninterruptedWeights(@TempDir Path tmp) throws Exception {
        PretrainResult whole = run(settings(tmp.resolve("whole")), false, 0);
        Path parts = tmp.resolve("parts");
        // 3 epochs x 3 iterations; stop after the checkpoint at iteration 4 (mid-epoch), then at 8
        PretrainResult first = run(settings(parts), false, 4);
        assertNull(first.weights(), "an interrupted run has no result yet");
        run(settings(parts), true, 8);
        // the newest checkpoint (iteration 8) is damaged on disk: by default --resume stops and names it; with
        // on_corrupt: previous it resumes from iteration 4, keeps the damaged one aside, and still ends identical
        Path damaged = parts.resolve("checkpoints").resolve("iter-000000008").resolve("checkpoint.safetensors");
        byte[] bytes = Files.readAllBytes(damaged);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(damaged, bytes);
        CorruptCheckpointException stopped = assertThrows(CorruptCheckpointException.class,
                () -> run(settings(parts), true, 0));
        assertTrue(stopped.getMessage().contains(damaged + " is corrupt")
                && stopped.getMessage().contains("on_corrupt: previous"), stopped.getMessage());
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        PretrainResult resumed = new PretrainJob(settings(parts, "training.checkpoint.on_corrupt=previous"), true,
                new PrintStream(console, true)).execute(SharedSpark.session());
        assertTrue(console.toString().contains("warning: checkpoint file " + damaged + " is corrupt")
                && console.toString().contains("resuming from iteration 4"), console.toString());
        assertArrayEquals(bytes, Files.readAllBytes(parts.resolve("checkpoints").resolve("corrupt-iter-000000008")
                .resolve("checkpoint.safetensors")), "the damaged checkpoint is kept as it was");

        Map<String, NamedTensor> expected = SafeTensors.read(whole.weights()).tensors();
        Map<String, NamedTensor> actual = SafeTensors.read(resumed.weights()).tensors();
        assertEquals(expected.keySet(), actual.keySet());
        for (String name : expected.keySet()) {
            assertArrayEquals(expected.get(name).values(), actual.get(name).values(), name + " differs");
        }
        String listing;
        try (var files = Files.walk(tmp)) {
            listing = files.filter(f -> f.toString().contains("tfevents")).map(f -> f + " " + f.toFile().length())
                    .collect(java.util.stream.Collectors.joining("\n"));
        }
        // the loss curve is the same: each process returns the losses of the iterations it trained
        float[] curve = whole.iterationLosses();
        assertArrayEquals(java.util.Arrays.copyOfRange(curve, 0, 4), first.iterationLosses(), "iterations 1-4");
        assertArrayEquals(java.util.Arrays.copyOfRange(curve, 4, curve.length), resumed.iterationLosses(),
                "iterations 5 to the end; " + java.util.Arrays.toString(curve) + " vs "
                + java.util.Arrays.toString(resumed.iterationLosses()) + "\n" + listing);
        assertEquals(whole.pretrainedProbe(), resumed.pretrainedProbe());
    }

    /**
     * output_dir on another Hadoop file system (issue 19: hdfs:// and s3a:// were refused): the interrupted run's
     * checkpoint and events are published there, a new driver resumes from what it pulls back (the checkpoint's
     * checksum verified; that a resume ends bit-identical is the test above), and the finished run's weights, curves
     * and events land there.
     */
    @Test
    void aRemoteOutputFolderIsPublishedAndResumedFrom(@TempDir Path tmp) throws Exception {
        String remote = "loopback://" + tmp.resolve("remote");
        Path remoteDir = tmp.resolve("remote");
        assertNull(run(settings(remote), false, 4).weights());
        assertTrue(Files.isRegularFile(remoteDir.resolve("checkpoints/iter-000000004/checkpoint.safetensors")),
                "the checkpoint is published when written");
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        PretrainResult resumed = new PretrainJob(settings(remote), true, new PrintStream(console, true))
                .execute(SharedSpark.session());
        assertTrue(console.toString().contains("resuming from iteration 4"), console.toString());
        assertFalse(resumed.weights().startsWith(remoteDir), "jobs write a working copy");
        Map<String, NamedTensor> expected = SafeTensors.read(resumed.weights()).tensors();
        Map<String, NamedTensor> published = SafeTensors.read(remoteDir.resolve("pretrained-ema.safetensors"))
                .tensors();
        for (String name : expected.keySet()) {
            assertArrayEquals(expected.get(name).values(), published.get(name).values(), name + " differs");
        }
        assertTrue(Files.isRegularFile(remoteDir.resolve("pretrain-curves.png")));
        try (var files = Files.walk(remoteDir.resolve("tensorboard"))) {
            assertTrue(files.anyMatch(f -> f.getFileName().toString().contains("tfevents")));
        }
        ConfigException fresh = assertThrows(ConfigException.class, () -> run(settings(remote), false, 0));
        assertTrue(fresh.getMessage().contains("output_dir " + remote + " already holds checkpoints"),
                fresh.getMessage());
    }

    @Test
    void refusesToOverwriteARunAndToResumeWithOtherSettings(@TempDir Path tmp) {
        run(settings(tmp), false, 4);
        ConfigException fresh = assertThrows(ConfigException.class, () -> run(settings(tmp), false, 0));
        assertTrue(fresh.getMessage().contains("already holds checkpoints") && fresh.getMessage().contains("--resume"),
                fresh.getMessage());
        ConfigException changed = assertThrows(ConfigException.class,
                () -> run(settings(tmp, "training.learning_rate=0.01"), true, 0));
        assertTrue(changed.getMessage().contains("learning_rate 0.002 -> 0.01"), changed.getMessage());
        ConfigException nothing = assertThrows(ConfigException.class,
                () -> run(settings(tmp.resolve("empty")), true, 0));
        assertTrue(nothing.getMessage().contains("no checkpoint"), nothing.getMessage());
    }

    @Test
    void aBatchThatDoesNotSplitOverTheReplicasIsRejectedNamingTheKey(@TempDir Path tmp) {
        ConfigException error = assertThrows(ConfigException.class,
                () -> run(settings(tmp, "training.batch_size=15"), false, 0));
        assertTrue(error.getMessage().contains("training.batch_size = 15") && error.getMessage().contains("2 barrier "
                + "tasks") && error.getMessage().contains("test.yaml"), error.getMessage());
    }
}
