package dev.sparkvit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.checkpoint.CheckpointStore;
import dev.sparkvit.checkpoint.TrainingCheckpoint;
import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.jobs.finetune.FinetuneConfig;
import dev.sparkvit.jobs.finetune.FinetuneJob;
import dev.sparkvit.jobs.finetune.FinetuneJobAccess;
import dev.sparkvit.jobs.finetune.FinetuneSettings;
import dev.sparkvit.model.io.NamedTensor;
import dev.sparkvit.testing.SharedSpark;
import dev.sparkvit.testing.ChildJvm;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI's exit code for training stopped by a non-finite loss, end to end in a JVM of its own (the command starts
 * and stops its own Spark session, which the shared test session must survive). A fine-tuning run with the shipped
 * conf/finetune.yaml is stopped after its checkpoint at iteration 2; that checkpoint's patch-embedding weights are
 * then set to 3e38 (finite, so the checkpoint writer takes them, as a diverging run would leave them: the next
 * forward pass overflows). {@code sparkvit finetune --resume} exits with {@link ExitCodes#NON_FINITE} and one
 * {@code sparkvit:} line on stderr naming iteration 3 and that checkpoint, which stays byte-identical; no other
 * checkpoint and no weights are written.
 */
@ExtendWith(SharedSpark.class)
class NonFiniteExitCodeTest {

    @Test
    void aResumedRunThatOverflowsExitsWithTheNonFiniteCode(@TempDir Path tmp) throws Exception {
        Path raw = tmp.resolve("raw");
        new SyntheticImageFolder(16, 12, 4).writeTo(raw);
        Path dataset = tmp.resolve("ds");
        new IngestJob(IngestSettings.defaults(raw.toString(), dataset.toString()).withStoredSize(16))
                .execute(SharedSpark.session());
        Path config = Path.of("..", "conf", "finetune.yaml");
        Path out = tmp.resolve("finetune");
        List<String> sets = List.of("data.dataset=" + dataset, "data.img_size=16", "output_dir=" + out,
                "model.ssl_pretrained_path=null",
                "model.head_init=random", "training.epochs=2", "training.warmup_epochs=1", "training.batch_size=16",
                "training.checkpoint.every_iterations=2");
        FinetuneSettings settings = FinetuneConfig.read(YamlConfig.load(config).with(sets));
        FinetuneJobAccess.stoppingAfter(new FinetuneJob(settings, false, new PrintStream(new ByteArrayOutputStream())),
                2).execute(SharedSpark.session());
        Path checkpoints = out.resolve("checkpoints");
        Path iter2 = checkpoints.resolve("iter-000000002");
        TrainingCheckpoint good = CheckpointStore.read(iter2);
        Map<String, NamedTensor> weights = new LinkedHashMap<>(good.weights());
        NamedTensor patch = weights.get("patch_embed.proj.weight");
        float[] huge = new float[patch.values().length];
        java.util.Arrays.fill(huge, 3e38f);
        weights.put("patch_embed.proj.weight", new NamedTensor(patch.shape(), huge));
        // a second checkpoint of iteration 2 (iter-000000002.1, CheckpointStore never replaces one): the newest
        Path tampered = new CheckpointStore(checkpoints, 3).write(new TrainingCheckpoint(good.progress(), weights,
                good.ema(), good.emaUpdates(), good.optimizer(), good.run(), good.emaSkipsNextFold(),
                good.skippedIterations()));
        Map<String, byte[]> before = files(checkpoints);

        List<String> command = new ArrayList<>(ChildJvm.command("1g", Main.class.getName(),
                List.of("finetune", "--config", config.toString(), "--resume")));
        for (String set : sets) {
            command.addAll(List.of("--set", set));
        }
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectOutput(tmp.resolve("stdout.txt").toFile())
                .redirectError(tmp.resolve("stderr.txt").toFile());
        builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        Process process = builder.start();
        if (!process.waitFor(10, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("sparkvit finetune did not end in 10 minutes");
        }
        String stdout = Files.readString(tmp.resolve("stdout.txt"));
        String stderr = Files.readString(tmp.resolve("stderr.txt"));
        assertEquals(ExitCodes.NON_FINITE, process.exitValue(), "stdout:\n" + stdout + "\nstderr:\n" + stderr);
        List<String> ours = stderr.lines().filter(line -> line.startsWith("sparkvit: ")).toList();
        assertEquals(1, ours.size(), stderr);
        assertTrue(ours.get(0).startsWith("sparkvit: finetune stopped at iteration 3 of 12 (epoch 1): non-finite "
                + "loss NaN, gradient norm NaN; nothing was written after checkpoint " + tampered.toAbsolutePath()
                + ": --resume continues from it ("), ours.get(0));
        assertTrue(stdout.contains("resuming from iteration 2 of 12"), stdout);

        Map<String, byte[]> after = files(checkpoints);
        assertEquals(before.keySet(), after.keySet(), "no checkpoint added or removed");
        before.forEach((name, bytes) -> assertArrayEquals(bytes, after.get(name), name + " changed"));
        assertFalse(Files.exists(out.resolve("finetuned.safetensors")) || Files.exists(out.resolve(
                "finetuned-ema.safetensors")), "no weights written");
    }

    private static Map<String, byte[]> files(Path dir) throws Exception {
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path file : walk.filter(Files::isRegularFile).sorted().toList()) {
                files.put(dir.relativize(file).toString(), Files.readAllBytes(file));
            }
        }
        return files;
    }
}
