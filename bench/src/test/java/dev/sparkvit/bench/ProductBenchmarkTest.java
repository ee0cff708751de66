package dev.sparkvit.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.bench.ProductBenchmark.Job;
import dev.sparkvit.bench.ProductBenchmark.Settings;
import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.jobs.finetune.FinetuneConfig;
import dev.sparkvit.jobs.pretrain.PretrainConfig;
import dev.sparkvit.model.vit.Head;
import dev.sparkvit.model.vit.VitFlops;
import dev.sparkvit.model.vit.VitPresets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProductBenchmarkTest {

    private static Settings settings(Job job, int batch, int threads, int epochs, String... sets) {
        return new Settings(job, "vit_tiny_patch4_32", batch, threads, epochs, Path.of("/data/ds"),
                Path.of("conf/" + job.command() + ".yaml"), Path.of("/out/run"), List.of(sets));
    }

    /** The value the job sees for {@code key}: the last --set of it (the command line's own rule). */
    private static String last(List<String> args, String key) {
        String value = null;
        for (int i = 0; i + 1 < args.size(); i++) {
            if (args.get(i).equals("--set") && args.get(i + 1).startsWith(key + "=")) {
                value = args.get(i + 1).substring(key.length() + 1);
            }
        }
        return value;
    }

    @Test
    void theFinetuneJobRunsOnTheBarrierEngineWithTheReferencesWork() {
        List<String> args = ProductBenchmark.arguments(settings(Job.FINETUNE, 32, 2, 4, "data.label_fraction=0.5"));
        assertEquals(List.of("finetune", "--config", "conf/finetune.yaml"), args.subList(0, 3));
        assertEquals(List.of("--master", "local[2]"), args.subList(args.size() - 2, args.size()));
        assertEquals("32", last(args, "training.batch_size"));
        assertEquals("4", last(args, "training.epochs"));
        assertEquals("0", last(args, "training.checkpoint.every_iterations"), "a segment per epoch");
        assertEquals("null", last(args, "model.ssl_pretrained_path"));
        assertEquals("ce", last(args, "training.loss_type"));
        assertEquals("0", last(args, "model.drop_path_rate"));
        assertEquals("0.5", last(args, "data.label_fraction"));
        assertEquals("/data/ds", last(args, "data.dataset"));
        assertEquals("/out/run", last(args, "output_dir"));
    }

    /**
     * The arguments make a config each job's own reader accepts: a removed or misspelt key would end the benchmarked
     * run at its first line (exit 2), as {@code training.engine} did once the key was removed.
     */
    @Test
    void eachJobsReaderAcceptsTheArguments(@TempDir Path dataset) {
        for (Job job : Job.values()) {
            List<String> args = ProductBenchmark.arguments(new Settings(job, "vit_tiny_patch4_32", 32, 2, 4, dataset,
                    Path.of("../conf/" + job.command() + ".yaml"), Path.of("/out/run"), List.of()));
            List<String> sets = new ArrayList<>();
            for (int i = 0; i + 1 < args.size(); i++) {
                if (args.get(i).equals("--set")) {
                    sets.add(args.get(i + 1));
                }
            }
            YamlConfig yaml = YamlConfig.load(Path.of(args.get(2))).with(sets);
            int batch = job == Job.FINETUNE
                    ? FinetuneConfig.read(yaml).get(dev.sparkvit.jobs.finetune.FinetuneKeys.BATCH_SIZE)
                    : PretrainConfig.read(yaml).get(dev.sparkvit.jobs.pretrain.PretrainKeys.BATCH_SIZE);
            assertEquals(32, batch, job.command());
        }
    }

    @Test
    void theCallersSetsComeLastAndWin() {
        List<String> args = ProductBenchmark.arguments(settings(Job.PRETRAIN, 64, 1, 3, "training.warmup_epochs=2"));
        assertEquals("pretrain", args.get(0));
        assertEquals("2", last(args, "training.warmup_epochs"));
        assertEquals("0", last(args, "training.probe_every_epochs"));
        assertEquals(null, last(args, "training.loss_type"), "no finetune key in a pretrain run");
    }

    @Test
    void settingsAreCheckedBeforeTheJobStarts() {
        String uneven = assertThrows(IllegalArgumentException.class, () -> settings(Job.FINETUNE, 9, 2, 4))
                .getMessage();
        assertTrue(uneven.contains("--batch 9") && uneven.contains("--threads 2"), uneven);
        String oneEpoch = assertThrows(IllegalArgumentException.class, () -> settings(Job.FINETUNE, 8, 1, 1))
                .getMessage();
        assertTrue(oneEpoch.contains("--epochs"), oneEpoch);
    }

    /** One Throughput per epoch; the first is left out. */
    @Test
    void theSteadyStateLeavesOutTheFirstEpoch() {
        assertArrayEquals(new double[] {30, 32}, ProductBenchmark.steadyState(new float[] {12, 30, 32}, 3), 1e-9);
        String more = assertThrows(IllegalStateException.class,
                () -> ProductBenchmark.steadyState(new float[] {12, 30, 32, 31}, 3)).getMessage();
        assertTrue(more.contains("logged 4 Throughput values") && more.contains("(3)"), more);
    }

    /** Pretraining trains two views an image through the encoder and the projection head. */
    @Test
    void flopsPerImageFollowTheJobsHead() {
        long finetune = ProductBenchmark.flopsPerImage(Job.FINETUNE, "vit_tiny_patch4_32", 10);
        assertEquals(VitFlops.of(VitPresets.get("vit_tiny_patch4_32"), Head.classifier(10)).training(), finetune);
        long pretrain = ProductBenchmark.flopsPerImage(Job.PRETRAIN, "vit_tiny_patch4_32", 10);
        long view = VitFlops.of(VitPresets.get("vit_tiny_patch4_32"), Head.projection(128)).training();
        assertEquals(2 * view, pretrain);
        assertTrue(pretrain > 2 * finetune - 1, "a 192x192 + 192x128 head costs more than a 192x10 one");
    }
}
