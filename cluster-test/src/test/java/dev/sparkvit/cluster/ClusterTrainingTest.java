package dev.sparkvit.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.SyntheticImageFolder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training on YARN through submit/spark-submit.sh, every path remote: pretrain on a dataset on HDFS and on one on S3,
 * each in yarn-client and yarn-cluster mode, output_dir on HDFS (checkpoints, TensorBoard events and weights land
 * there; a yarn-cluster run exits 0 with one application attempt, FINISHED/SUCCEEDED); then finetune from the
 * pretrained weights on HDFS, evaluate and predict that run, and retrain with its registry, input and dataset on HDFS
 * (its work_dir is a folder of the driver, here in yarn-client mode on this machine). The configs are
 * read from HDFS too (conf/ uploaded), as a yarn-cluster driver has no local files of the user's.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterTrainingTest {
    @TempDir
    static Path tmp;
    private static Servers servers;
    private static Submit submit;
    private static ResourceManager rm;
    private static String hdfs;
    private static String hdfsDataset;
    private static final String S3_DATASET = "s3a://data/datasets/shapes";

    @BeforeAll
    static void start() throws Exception {
        servers = Servers.start("ClusterTrainingTest", true);
        submit = new Submit(servers);
        rm = new ResourceManager(servers.rmWeb());
        hdfs = servers.hdfs();
        Path raw = tmp.resolve("raw");
        new SyntheticImageFolder(32, 6, 5).writeTo(raw);
        servers.upload(raw, hdfs + "/raw");
        servers.upload(Submit.ROOT.resolve("conf"), hdfs + "/conf");
        hdfsDataset = hdfs + "/datasets/shapes";
        Commands.Result ingest = submit.run("ingest", "client", "ingest", "--input", hdfs + "/raw", "--output",
                hdfsDataset);
        assertEquals(0, ingest.exit(), ingest.output());
        servers.createBucket("data");
        servers.copy(hdfsDataset, S3_DATASET);
    }

    @AfterAll
    static void stop() throws Exception {
        if (servers != null) {
            servers.close();
        }
    }

    /** A tiny pretraining: 1 epoch of 3 iterations, a checkpoint every 2. */
    private static String[] pretrain(String dataset, String output) {
        return new String[] {"pretrain", "--config", hdfs + "/conf/pretrain.yaml", "--set", "data.dataset=" + dataset,
            "--set", "output_dir=" + output, "--set", "training.epochs=1", "--set", "training.warmup_epochs=0",
            "--set", "training.batch_size=16", "--set", "training.probe_every_epochs=0", "--set",
            "training.checkpoint.every_iterations=2"};
    }

    private static void pretrainsOnYarn(String name, String mode, String dataset) throws Exception {
        String output = hdfs + "/runs/" + name;
        List<String> before = rm.applications();
        Commands.Result r = submit.run(name, mode, pretrain(dataset, output));
        String app = rm.newApplication(before);
        assertEquals(0, r.exit(), app + ":\n" + r.output());
        assertEquals(1, rm.attempts(app), "one application attempt of " + app);
        assertEquals("FINISHED/SUCCEEDED", rm.status(app), app);
        List<String> files = servers.list(output);
        assertTrue(files.containsAll(List.of("checkpoints", "tensorboard", "pretrained-ema.safetensors")),
                output + ": " + files);
        List<String> checkpoints = servers.list(output + "/checkpoints");
        assertTrue(checkpoints.stream().anyMatch(c -> c.startsWith("iter-")), "checkpoints on HDFS: " + checkpoints);
        List<String> events = new ArrayList<>();
        collect(output + "/tensorboard", events);
        assertTrue(events.stream().anyMatch(e -> e.contains("tfevents")), "TensorBoard events on HDFS: " + events);
        if (mode.equals("client")) {
            assertTrue(r.stdout().contains("epoch 1/1"), r.output());
        }
    }

    private static void collect(String uri, List<String> into) throws Exception {
        for (var status : servers.fs(uri).listStatus(new org.apache.hadoop.fs.Path(uri))) {
            if (status.isDirectory()) {
                collect(status.getPath().toString(), into);
            } else {
                into.add(status.getPath().toString());
            }
        }
    }

    @Test
    @Order(1)
    void pretrainOnHdfsYarnClient() throws Exception {
        pretrainsOnYarn("pretrain-hdfs-client", "client", hdfsDataset);
    }

    @Test
    @Order(2)
    void pretrainOnHdfsYarnCluster() throws Exception {
        pretrainsOnYarn("pretrain-hdfs-cluster", "cluster", hdfsDataset);
    }

    @Test
    @Order(3)
    void pretrainOnS3YarnClient() throws Exception {
        pretrainsOnYarn("pretrain-s3a-client", "client", S3_DATASET);
    }

    @Test
    @Order(4)
    void pretrainOnS3YarnCluster() throws Exception {
        pretrainsOnYarn("pretrain-s3a-cluster", "cluster", S3_DATASET);
    }

    @Test
    @Order(5)
    void finetuneFromHdfsThenEvaluateAndPredict() throws Exception {
        String weights = hdfs + "/runs/pretrain-hdfs-client/pretrained-ema.safetensors";
        if (!servers.exists(weights)) { // this test alone (-Dtest=ClusterTrainingTest#finetune...)
            pretrainOnHdfsYarnClient();
        }
        String run = hdfs + "/runs/finetune";
        Commands.Result ft = submit.run("finetune", "client", "finetune", "--config", hdfs + "/conf/finetune.yaml",
                "--set", "data.dataset=" + hdfsDataset, "--set", "output_dir=" + run, "--set",
                "model.ssl_pretrained_path=" + weights, "--set", "training.epochs=1", "--set",
                "training.batch_size=16", "--set", "training.warmup_epochs=0");
        assertEquals(0, ft.exit(), ft.output());
        assertTrue(servers.exists(run + "/finetuned-ema.safetensors"), servers.list(run).toString());

        Commands.Result ev = submit.run("evaluate", "client", "evaluate", "--run", run);
        assertEquals(0, ev.exit(), ev.output());
        assertTrue(servers.list(run + "/evaluation").containsAll(List.of("metrics.json", "report.html")),
                servers.list(run + "/evaluation").toString());
        assertTrue(servers.read(run + "/evaluation/metrics.json").contains("accuracy"));

        String predictions = hdfs + "/predictions";
        Commands.Result pr = submit.run("predict", "client", "predict", "--model", run
                + "/finetuned-ema.safetensors", "--input", hdfsDataset, "--output", predictions);
        assertEquals(0, pr.exit(), pr.output());
        assertTrue(pr.stdout().contains("predict: "), pr.output());
        List<String> tables = servers.list(predictions);
        assertTrue(tables.size() >= 2, "the predictions and rejects tables on HDFS: " + tables);
    }

    @Test
    @Order(6)
    void retrainWithItsRegistryOnHdfs() throws Exception {
        String registry = hdfs + "/models/registry";
        String config = hdfs + "/conf/retrain-cluster-test.yaml";
        try (var out = servers.fs(config).create(new org.apache.hadoop.fs.Path(config))) {
            out.write(String.join("\n", "input: " + hdfs + "/raw", "dataset: " + hdfs + "/retrain/dataset",
                    "stored_size: 32", "registry: " + registry, "work_dir: " + tmp.resolve("retrain-work"), // the driver's disk
                    "finetune_config: " + hdfs + "/conf/finetune.yaml",
                    "finetune_set: [training.epochs=1, training.batch_size=16, training.warmup_epochs=0, "
                    + "model.ssl_pretrained_path=null]", "").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        Commands.Result r = submit.run("retrain", "client", "retrain", "--config", config);
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.stdout().contains("sparkvit retrain: promoted, version v0001"), r.output());
        assertEquals(List.of("production", "versions"), servers.list(registry), "the lock released");
        assertEquals(List.of("v0001"), servers.list(registry + "/versions"));
        Commands.Result status = submit.run("retrain-status", "client", "retrain", "--config", config, "--status");
        assertEquals(0, status.exit(), status.output());
        assertTrue(status.stdout().contains("v0001"), status.output());
    }
}
