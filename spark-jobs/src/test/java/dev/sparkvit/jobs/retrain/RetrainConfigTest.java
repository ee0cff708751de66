package dev.sparkvit.jobs.retrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.config.ConfigException;
import dev.sparkvit.config.YamlConfig;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every retrain config mistake is one message naming the file, the key and the value, before Spark starts. */
class RetrainConfigTest {
    @TempDir
    Path tmp;
    private String base;

    @BeforeEach
    void files() throws IOException {
        Files.createDirectories(tmp.resolve("incoming"));
        Files.writeString(tmp.resolve("finetune.yaml"), "model:\n  preset: vit_nano_patch4_32\n");
        base = "input: " + tmp.resolve("incoming") + "\ndataset: " + tmp.resolve("ds") + "\nregistry: "
                + tmp.resolve("registry") + "\nfinetune_config: " + tmp.resolve("finetune.yaml") + "\n";
    }

    private RetrainSettings read(String extra) {
        return RetrainConfig.read(YamlConfig.parse("retrain.yaml", new StringReader(base + extra)));
    }

    private void rejects(String extra, String... fragments) {
        ConfigException e = assertThrows(ConfigException.class, () -> read(extra), extra);
        assertTrue(e.getMessage().contains("retrain.yaml"), e.getMessage());
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        RetrainSettings s = read("");
        assertEquals("production", s.warmStart());
        assertEquals("accuracy", s.metric());
        assertEquals("ema+tta", s.variant());
        assertEquals("test", s.split());
        assertEquals(0.01, s.minImprovement());
        assertEquals(List.of(), s.finetuneOverrides());
    }

    /** Remote input and dataset are kept as written (java.nio made hdfs://nn:8020/in "hdfs:/nn:8020/in"). */
    @Test
    void remoteInputAndDatasetAreKeptIntact() {
        base = base.replace("input: " + tmp.resolve("incoming"), "input: hdfs://nn:8020/incoming")
                .replace("dataset: " + tmp.resolve("ds"), "dataset: hdfs://nn:8020/ds");
        RetrainSettings s = read("");
        assertEquals("hdfs://nn:8020/incoming", s.input());
        assertEquals("hdfs://nn:8020/ds", s.dataset());
    }

    /**
     * The dataset is written under its lock: on S3 (s3a://) by write, settle, verify, so it is allowed there (the
     * registry is not); another object store is refused in one line naming the key and why.
     */
    @Test
    void aDatasetOnS3IsAllowedOnOtherObjectStoresRefusedInOneLineNamingTheKeyAndWhy() {
        base = base.replace("dataset: " + tmp.resolve("ds"), "dataset: s3a://bucket/ds");
        assertEquals("s3a://bucket/ds", read("").dataset());
        base = base.replace("dataset: s3a://bucket/ds", "dataset: gs://bucket/ds");
        ConfigException e = assertThrows(ConfigException.class, () -> read(""));
        String m = e.getMessage();
        assertTrue(m.startsWith("retrain.yaml: dataset = gs://bucket/ds is not supported: a dataset's lock needs an "
                + "atomic create-if-absent (HDFS) or strong read-after-write consistency") && m.contains("gs:// is an "
                + "object store without atomic create-if-absent") && !m.contains("\n"), m);
    }

    /**
     * work_dir is a folder on the driver's disk: a Hadoop URI was turned into "CWD/hdfs:/nn:8020/work" by java.nio
     * and failed only after the ingest ("is not a valid DFS filename", found by make cluster-test); now one line.
     */
    @Test
    void aRemoteWorkDirIsRefusedAndAFileUriIsLocal() {
        rejects("work_dir: hdfs://nn:8020/work\n", "work_dir = hdfs://nn:8020/work", "a local folder");
        rejects("work_dir: s3a://bucket/work\n", "work_dir = s3a://bucket/work", "not a Hadoop URI");
        assertEquals(tmp.resolve("w").toAbsolutePath(), read("work_dir: file:" + tmp.resolve("w") + "\n").workDir());
    }

    @Test
    void eachMistakeNamesKeyAndValue() throws IOException {
        rejects("warm_start: latest\n", "warm_start = latest");
        rejects("gate:\n  variant: best\n", "gate.variant = best");
        rejects("gate:\n  metric: f1\n", "gate.metric = f1");
        rejects("gate:\n  min_improvement: 2\n", "gate.min_improvement = 2");
        rejects("gate:\n  split: holdout\n", "gate.split = holdout");
        rejects("schedule: nightly\n", "unknown key schedule");
        rejects("finetune_set: [output_dir=/tmp/x]\n", "output_dir=/tmp/x", "set by retrain");
        rejects("finetune_set: [training.epochs]\n", "training.epochs", "key=value");
        rejects("finetune_set: [training.epochs=0]\n", "finetune_set", "training.epochs = 0");
        Files.delete(tmp.resolve("finetune.yaml"));
        rejects("", "finetune_config", "is not a file");
    }

    @Test
    void aGateOnAVariantTheRunWillNotProduceIsRejected() {
        rejects("finetune_set: [training.ema.enabled=false]\n", "gate.variant = (default)", "training.ema.enabled");
        rejects("finetune_set: [training.use_tta=false]\ngate:\n  variant: live+tta\n", "gate.variant = live+tta",
                "training.use_tta");
        assertEquals("live", read("finetune_set: [training.ema.enabled=false, training.use_tta=false]\ngate:\n"
                + "  variant: live\n").variant());
    }

    @Test
    void aRegistryOnS3OrAnyStoreWithoutAtomicRenameIsRefusedInOneLineNamingTheKeyAndWhy() {
        String local = base;
        for (String[] c : new String[][] {{"s3a://models/registry", "s3a:// is an object store: it has no atomic "
                + "rename"}, {"s3://models/registry", "s3:// is an object store"}, {"gs://models/registry",
                "gs:// is an object store"}, {"ftp://host/registry", "ftp:// is not known to have an atomic rename"}}) {
            base = local.replace("registry: " + tmp.resolve("registry"), "registry: " + c[0]);
            ConfigException e = assertThrows(ConfigException.class, () -> read(""), c[0]);
            String m = e.getMessage();
            assertTrue(m.startsWith("retrain.yaml: registry = " + c[0] + " is not supported: the model registry's "
                    + "lock and its all-or-nothing versions and production pointer need both") && m.contains(c[1])
                    && m.contains("hdfs://") && !m.contains("\n"), m);
        }
        // HDFS and local paths are kept as written (a URI's // is not folded), local ones made absolute
        base = local.replace("registry: " + tmp.resolve("registry"), "registry: hdfs://namenode:8020/models/reg");
        assertEquals("hdfs://namenode:8020/models/reg", read("").registry());
        base = local.replace("registry: " + tmp.resolve("registry"), "registry: out/registry");
        assertEquals(Path.of("out/registry").toAbsolutePath().toString(), read("").registry());
        assertThrows(ConfigException.class, () -> ModelRegistry.open("s3a://models/registry",
                new org.apache.hadoop.conf.Configuration()), "refused wherever a registry is opened");
    }

    @Test
    void aMissingInputFolderIsRejected() throws IOException {
        Files.delete(tmp.resolve("incoming"));
        rejects("", "input", "is not a folder");
    }
}
