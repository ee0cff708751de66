package dev.sparkvit.jobs.retrain;

import dev.sparkvit.storage.MiniHdfs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.testing.SharedSpark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The retraining pipeline with its registry on a real HDFS (MiniDFSCluster): the first run registers and promotes
 * v0001 there, a re-run on the same data does nothing, and a run on new data warm-starts from the production model
 * (read from a local copy), scores it beside the candidate and promotes the candidate. The lock is released and no
 * temporary entry is left on HDFS.
 */
@ExtendWith(SharedSpark.class)
class RetrainOnHdfsTest {

    private static RetrainSettings settings(Path tmp, String registry, double margin) throws Exception {
        Path finetune = tmp.resolve("finetune.yaml");
        Files.writeString(finetune, "model:\n  preset: vit_nano_patch4_32\n  drop_path_rate: 0.0\n"
                + "  head_init: random\nevaluation:\n  tta_views: [identity, flip]\n");
        String yaml = String.join("\n", "input: " + tmp.resolve("incoming"), "dataset: " + tmp.resolve("dataset"),
                "stored_size: 16", "registry: " + registry, "work_dir: " + tmp.resolve("work"),
                "finetune_config: " + finetune,
                "finetune_set: [data.img_size=16, training.epochs=1, training.batch_size=16, training.warmup_epochs=0]",
                "gate:", "  variant: ema+tta", "  min_improvement: " + margin, "");
        return RetrainConfig.read(YamlConfig.parse("retrain.yaml", new StringReader(yaml)));
    }

    /**
     * With HDFS as the cluster's default file system (a YARN cluster's core-site.xml), the candidate run stays in the
     * local work_dir: retrain handed it to finetune as a path without a scheme, so the run landed on HDFS and retrain
     * then failed with "has no finetuned.safetensors" (found by make cluster-test).
     */
    @Test
    void withHdfsAsTheDefaultFileSystemTheCandidateRunStaysInTheLocalWorkDir(@TempDir Path tmp) throws Exception {
        try (MiniHdfs hdfs = MiniHdfs.start(tmp.resolve("hdfs"))) {
            // as make cluster-test runs it: input, dataset, registry and the fine-tuning config on HDFS, work_dir local
            IncomingImages.arrive(tmp, 4, 4, "a");
            Files.writeString(tmp.resolve("finetune.yaml"), "model:\n  preset: vit_nano_patch4_32\n"
                    + "  drop_path_rate: 0.0\n  head_init: random\nevaluation:\n  tta_views: [identity, flip]\n");
            FileSystem fs = FileSystem.get(URI.create(hdfs.uri()), hdfs.conf());
            fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(tmp.resolve("incoming").toUri()),
                    new org.apache.hadoop.fs.Path(hdfs.uri() + "/incoming"));
            fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(tmp.resolve("finetune.yaml").toUri()),
                    new org.apache.hadoop.fs.Path(hdfs.uri() + "/finetune.yaml"));
            String yaml = String.join("\n", "input: " + hdfs.uri() + "/incoming", "dataset: " + hdfs.uri()
                    + "/dataset", "stored_size: 16", "registry: " + hdfs.uri() + "/registry", "work_dir: "
                    + tmp.resolve("work"), "finetune_config: " + hdfs.uri() + "/finetune.yaml", "finetune_set: "
                    + "[data.img_size=16, training.epochs=1, training.batch_size=16, training.warmup_epochs=0]", "");
            RetrainSettings settings = RetrainConfig.read(YamlConfig.parse("retrain.yaml", new StringReader(yaml)));
            org.apache.hadoop.conf.Configuration conf = SharedSpark.session().sparkContext().hadoopConfiguration();
            String before = conf.get("fs.defaultFS");
            conf.set("fs.defaultFS", hdfs.uri());
            try {
                RetrainJob.Result first = run(settings);
                assertEquals(RetrainJob.Outcome.PROMOTED, first.outcome());
                try (Stream<Path> runs = Files.list(tmp.resolve("work"))) {
                    assertTrue(runs.anyMatch(r -> Files.isRegularFile(r.resolve("finetuned.safetensors"))),
                            "the candidate run in the local work_dir");
                }
            } finally {
                conf.set("fs.defaultFS", before);
            }
        }
    }

    private static RetrainJob.Result run(RetrainSettings settings) {
        return new RetrainJob(settings, new PrintStream(new ByteArrayOutputStream())).execute(SharedSpark.session());
    }

    @Test
    void promotesOnHdfsDoesNothingTwiceAndWarmStartsFromTheProductionModelThere(@TempDir Path tmp)
            throws Exception {
        try (MiniHdfs hdfs = MiniHdfs.start(tmp.resolve("hdfs"))) {
            String root = hdfs.uri() + "/models/registry";
            IncomingImages.arrive(tmp, 6, 4, "a");
            RetrainJob.Result first = run(settings(tmp, root, 0.01));
            assertEquals(RetrainJob.Outcome.PROMOTED, first.outcome());
            ModelRegistry registry = ModelRegistry.open(root, hdfs.conf());
            assertEquals("v0001", registry.production().orElseThrow());

            RetrainJob.Result again = run(settings(tmp, root, 0.01));
            assertEquals(RetrainJob.Outcome.UNCHANGED, again.outcome());

            IncomingImages.arrive(tmp, 3, 9, "b");
            RetrainJob.Result promoted = run(settings(tmp, root, -0.99));
            assertEquals(RetrainJob.Outcome.PROMOTED, promoted.outcome());
            assertEquals(List.of("v0001", "v0002"), registry.versions());
            assertEquals("v0002", registry.production().orElseThrow());
            assertEquals("v0001", registry.info("v0002").get("production_version"));
            assertTrue(registry.info("v0002").get("production_score") != null, "production was scored beside it");
            assertEquals(root + "/versions/v0001/finetuned-ema.safetensors", registry.info("v0002").get("warm_start"),
                    "warm start from production (read from a local copy): " + registry.info("v0002"));
            assertTrue(Files.isRegularFile(tmp.resolve("work/registry-cache/v0001/finetuned-ema.safetensors")));
            List<String> warnings = new ArrayList<>();
            registry.check(warnings::add);
            assertEquals(List.of(), warnings);

            FileSystem fs = FileSystem.get(URI.create(hdfs.uri()), hdfs.conf());
            List<String> names = new ArrayList<>();
            for (FileStatus s : fs.listStatus(new org.apache.hadoop.fs.Path(root))) {
                names.add(s.getPath().getName());
            }
            assertEquals(List.of("production", "versions"), names.stream().sorted().toList(),
                    "the lock released, no temporary file left");
        }
    }
}
