package dev.sparkvit.config;

import dev.sparkvit.jobs.finetune.FinetuneKeys;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.DATASET;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.OUTPUT_DIR;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.jobs.finetune.FinetuneConfig;
import dev.sparkvit.jobs.finetune.FinetuneSettings;
import dev.sparkvit.jobs.pretrain.PretrainConfig;
import dev.sparkvit.jobs.pretrain.PretrainSettings;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Remote datasets, outputs and weights in training configs are kept exactly as written: java.nio's Path turned
 * {@code hdfs://host:port/ds} into {@code hdfs:/host:port/ds}, which then failed as "is not a folder" (issue 19, bug 1).
 */
class RemoteLocationsConfigTest {
    private static final Path PRETRAIN = Path.of("..", "conf", "pretrain.yaml");
    private static final Path FINETUNE = Path.of("..", "conf", "finetune.yaml");

    @Test
    void pretrainKeepsHdfsAndS3aDatasetsAndOutputsIntact() {
        for (String base : List.of("hdfs://127.0.0.1:8020/user/me", "s3a://bucket/prefix", "viewfs://cluster/x")) {
            PretrainSettings s = PretrainConfig.read(YamlConfig.load(PRETRAIN).with(List.of(
                    "data.dataset=" + base + "/ds", "output_dir=" + base + "/pretrain")));
            assertEquals(base + "/ds", s.get(DATASET));
            assertEquals(base + "/pretrain", s.get(OUTPUT_DIR));
        }
    }

    @Test
    void finetuneKeepsRemoteDatasetOutputAndSslWeightsIntact() {
        FinetuneSettings s = FinetuneConfig.read(YamlConfig.load(FINETUNE).with(List.of(
                "data.dataset=hdfs://nn:8020/ds", "output_dir=hdfs://nn:8020/runs/ft",
                "model.ssl_pretrained_path=hdfs://nn:8020/runs/pt/pretrained-ema.safetensors")));
        assertEquals("hdfs://nn:8020/ds", s.get(FinetuneKeys.DATASET));
        assertEquals("hdfs://nn:8020/runs/ft", s.get(FinetuneKeys.OUTPUT_DIR));
        assertEquals("hdfs://nn:8020/runs/pt/pretrained-ema.safetensors", s.get(FinetuneKeys.SSL_PRETRAINED_PATH));
    }

    @Test
    void localPathsAreStillCheckedAndMadeAbsolute(@TempDir Path tmp) {
        PretrainSettings s = PretrainConfig.read(YamlConfig.load(PRETRAIN).with(List.of(
                "data.dataset=" + tmp, "output_dir=" + tmp.resolve("out"))));
        assertEquals(tmp.resolve("out").toString(), s.get(OUTPUT_DIR));
        ConfigException missing = assertThrows(ConfigException.class, () -> PretrainConfig.read(
                YamlConfig.load(PRETRAIN).with(List.of("data.dataset=" + tmp.resolve("nope")))));
        assertTrue(missing.getMessage().contains("data.dataset") && missing.getMessage().contains("is not a folder"),
                missing.getMessage());
        ConfigException ssl = assertThrows(ConfigException.class, () -> FinetuneConfig.read(
                YamlConfig.load(FINETUNE).with(List.of("data.dataset=" + tmp,
                        "model.ssl_pretrained_path=file:" + tmp.resolve("none.safetensors")))));
        assertTrue(ssl.getMessage().contains("model.ssl_pretrained_path") && ssl.getMessage().contains("does not exist"),
                ssl.getMessage());
    }
}
