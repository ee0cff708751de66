package dev.sparkvit.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.checkpoint.CheckpointStore;
import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.testing.Reliability;
import dev.sparkvit.testing.SharedSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver killed with SIGKILL while it writes a checkpoint: a real {@code sparkvit pretrain} JVM (local[2], a
 * vit_tiny model so that each checkpoint is about 85 MB, one every iteration) is killed once the data file in its
 * temporary checkpoint folder has bytes, again with --resume until a kill lands before the rename. What is left is a
 * {@code .tmp-*} folder, never loaded: the next --resume names it, continues from the previous complete checkpoint,
 * removes it once a new checkpoint is in place, and ends with the uninterrupted run's weights bit for bit. About
 * 3 minutes.
 */
@Reliability
@ExtendWith(SharedSpark.class)
class CheckpointWriteKillTest {
    private static final int TOTAL = 18;

    private static List<String> entries(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aKillDuringACheckpointWriteLeavesATemporaryFolderThatIsNeverLoaded(@TempDir Path tmp) throws Exception {
        Path raw = tmp.resolve("raw");
        new SyntheticImageFolder(16, 12, 4).writeTo(raw);
        String dataset = tmp.resolve("ds").toString();
        new IngestJob(IngestSettings.defaults(raw.toString(), dataset).withStoredSize(16))
                .execute(SharedSpark.session());
        Path logs = tmp.resolve("logs");
        // 3 epochs of 6 iterations, a checkpoint after every one
        List<String> common = List.of("pretrain", "--config", ChildProcesses.ROOT.resolve("conf/pretrain.yaml")
                .toString(), "--set", "data.dataset=" + dataset, "--set", "data.img_size=16", "--set", "model.preset=vit_tiny_patch4_32",
                "--set", "training.epochs=3", "--set", "training.warmup_epochs=1", "--set", "training.batch_size=16",
                "--set", "training.checkpoint.every_iterations=1", "--set", "training.checkpoint.keep=3",
                "--set", "training.probe_every_epochs=0", "--set", "projection_dim=32");

        Path reference = tmp.resolve("reference");
        ChildProcesses.Child whole = ChildProcesses.sparkvit(logs, "reference", with(common, reference));
        assertEquals(0, whole.exit(15), whole.output());

        Path out = tmp.resolve("killed");
        Path checkpoints = out.resolve("checkpoints");
        String landed = null;
        List<String> history = new ArrayList<>();
        for (int attempt = 1; attempt <= 8 && landed == null; attempt++) {
            List<String> args = with(common, out);
            if (attempt > 1) {
                args.add("--resume");
            }
            ChildProcesses.Child run = ChildProcesses.sparkvit(logs, "killed-" + attempt, args);
            String seen = null;
            long deadline = System.nanoTime() + 5L * 60 * 1_000_000_000;
            while (seen == null && run.process().isAlive() && System.nanoTime() < deadline) {
                List<String> now = entries(checkpoints);
                // the write of a checkpoint after a complete one (a resume then has something to continue from),
                // once its data file has bytes: the kill lands inside the write, not before it
                seen = now.stream().anyMatch(n -> n.startsWith("iter-")) ? now.stream().filter(n -> n.startsWith(
                        ".tmp-") && writing(checkpoints.resolve(n))).findFirst().orElse(null) : null;
                if (seen == null) {
                    Thread.sleep(1);
                }
            }
            assertTrue(seen != null, "attempt " + attempt + " began a checkpoint write: " + run.output());
            run.process().destroyForcibly(); // SIGKILL
            run.process().waitFor();
            List<String> left = entries(checkpoints);
            if (left.contains(seen)) {
                landed = seen;
                List<String> files = entries(checkpoints.resolve(seen));
                long bytes = 0;
                for (String f : files) {
                    bytes += Files.size(checkpoints.resolve(seen).resolve(f));
                }
                history.add("attempt " + attempt + ": SIGKILL while writing " + seen + " (left " + files + ", "
                        + bytes + " bytes); complete: " + left.stream().filter(n -> n.startsWith("iter-")).toList());
            } else {
                history.add("attempt " + attempt + ": the write of " + seen + " completed before the kill; "
                        + "complete: " + left.stream().filter(n -> n.startsWith("iter-")).toList());
            }
        }
        history.forEach(line -> System.out.println("checkpoint write kill: " + line));
        assertTrue(landed != null, "a kill landed during a checkpoint write within 8 attempts: " + history);

        List<Path> complete = new CheckpointStore(checkpoints, 3).list();
        assertFalse(complete.isEmpty(), "an earlier checkpoint is complete");
        long newest = CheckpointStore.read(complete.get(0)).progress().iterations();
        ChildProcesses.Child resumed = ChildProcesses.sparkvit(logs, "resumed", with(common, out, "--resume"));
        assertEquals(0, resumed.exit(15), resumed.output());
        String console = resumed.stdout();
        assertTrue(console.contains("warning: ignoring " + checkpoints.resolve(landed) + ": the temporary folder of an "
                + "interrupted checkpoint write (never loaded; removed once the next checkpoint is written)"), console);
        assertTrue(console.contains("resuming from iteration " + newest + " of " + TOTAL + " "), console);
        assertTrue(entries(checkpoints).stream().noneMatch(n -> n.startsWith(".tmp-")), "removed: "
                + entries(checkpoints));
        String weights = "pretrained-ema.safetensors";
        assertEquals(ChildProcesses.sha256(reference.resolve(weights)), ChildProcesses.sha256(out.resolve(weights)),
                "the resumed run ends with the uninterrupted run's EMA weights");
        System.out.println("checkpoint write kill: resumed from iteration " + newest + "; " + weights
                + " identical to the uninterrupted run's");
    }

    /** A temporary checkpoint folder holding a file with bytes in it (false once it was renamed away). */
    private static boolean writing(Path tmp) {
        try (Stream<Path> files = Files.list(tmp)) {
            return files.anyMatch(f -> {
                try {
                    return Files.size(f) > 0;
                } catch (java.io.IOException gone) {
                    return false;
                }
            });
        } catch (java.io.IOException gone) {
            return false;
        }
    }

    private static List<String> with(List<String> common, Path output, String... more) {
        List<String> args = new ArrayList<>(common);
        args.addAll(List.of("--set", "output_dir=" + output));
        args.addAll(List.of(more));
        return args;
    }
}
