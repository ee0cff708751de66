package dev.sparkvit.config;

import static dev.sparkvit.jobs.pretrain.PretrainKeys.BATCH_SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.jobs.finetune.FinetuneConfig;
import dev.sparkvit.jobs.pretrain.PretrainConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The optional cluster.executors x cluster.executor_cores must divide the batch, checked before Spark starts. */
class ClusterShapeConfigTest {
    @TempDir
    Path tmp;

    private Path write(String name, String yaml) throws IOException {
        Files.createDirectories(tmp.resolve("ds"));
        Path file = tmp.resolve(name);
        Files.writeString(file, yaml.replace("DS", tmp.resolve("ds").toString()));
        return file;
    }

    private static void assertMentions(String message, String... parts) {
        for (String part : parts) {
            assertTrue(message.contains(part), "expected '" + part + "' in: " + message);
        }
    }

    private String pretrainError(Path file, String... sets) {
        return assertThrows(ConfigException.class,
                () -> PretrainConfig.read(YamlConfig.load(file).with(List.of(sets)))).getMessage();
    }

    @Test
    void aPretrainBatchTheReplicasCannotSplitNamesKeyValueAndFiles() throws IOException {
        Path cluster = write("cluster.yaml", "cluster:\n  executors: 2\n  executor_cores: 4\n");
        Path job = write("pretrain.yaml", "include: [cluster.yaml]\ndata:\n  dataset: DS\ntraining:\n"
                + "  batch_size: 60\n");
        assertMentions(pretrainError(job), job + ": training.batch_size = 60 (" + job + ":5)",
                "not a multiple of the 8 model replicas", "cluster.executors = 2 (" + cluster + ":2)",
                "cluster.executor_cores = 4 (" + cluster + ":3)");
        assertEquals(64, PretrainConfig.read(YamlConfig.load(job).with(List.of("training.batch_size=64")))
                .get(BATCH_SIZE));
        assertEquals(60, PretrainConfig.read(YamlConfig.load(job).with(List.of("cluster.executor_cores=3")))
                .get(BATCH_SIZE));
        assertMentions(pretrainError(job, "training.batch_size=64", "cluster.executors=3"),
                "training.batch_size = 64", "12 model replicas", "cluster.executors = 3 (--set cluster.executors)");
    }

    @Test
    void withoutAClusterSectionNothingIsChecked() throws IOException {
        Path job = write("pretrain.yaml", "data:\n  dataset: DS\ntraining:\n  batch_size: 61\n");
        assertEquals(61, PretrainConfig.read(YamlConfig.load(job)).get(BATCH_SIZE));
    }

    @Test
    void aFinetuneMicroBatchTheReplicasCannotSplitNamesBothKeys() throws IOException {
        Path job = write("finetune.yaml", "data:\n  dataset: DS\ntraining:\n  batch_size: 64\n"
                + "  gradient_accumulation_steps: 4\ncluster:\n  executors: 3\n  executor_cores: 2\n");
        String message = assertThrows(ConfigException.class, () -> FinetuneConfig.read(YamlConfig.load(job)))
                .getMessage();
        assertMentions(message, "training.batch_size = 64 (" + job + ":4)",
                "training.gradient_accumulation_steps = 4 (" + job + ":5) = 16", "6 model replicas",
                "cluster.executors = 3 (" + job + ":7)", "cluster.executor_cores = 2 (" + job + ":8)");
        assertEquals(32, FinetuneConfig.read(YamlConfig.load(job).with(List.of(
                "training.gradient_accumulation_steps=2", "cluster.executors=2", "cluster.executor_cores=4")))
                .microBatch());
        String single = assertThrows(ConfigException.class, () -> FinetuneConfig.read(YamlConfig.load(job)
                .with(List.of("training.gradient_accumulation_steps=1", "cluster.executors=5")))).getMessage();
        assertMentions(single, "training.batch_size = 64 (" + job + ":4) is not a multiple of the 10 model replicas");
    }

    @Test
    void theClusterKeysAreTypedAndGoTogether() throws IOException {
        Path half = write("half.yaml", "data:\n  dataset: DS\ncluster:\n  executors: 2\n");
        assertMentions(pretrainError(half), "cluster.executors = 2 (" + half + ":4) is given without "
                + "cluster.executor_cores");
        Path zero = write("zero.yaml", "data:\n  dataset: DS\ncluster:\n  executors: 0\n  executor_cores: 2\n");
        assertMentions(pretrainError(zero), zero + ":4: cluster.executors = 0 is invalid", "[1, 100000]");
        Path word = write("word.yaml", "data:\n  dataset: DS\ncluster:\n  executors: 2\n  executor_cores: all\n");
        assertMentions(pretrainError(word), word + ":5: cluster.executor_cores = all is invalid", "an integer");
        Path unknown = write("unknown.yaml", "data:\n  dataset: DS\ncluster:\n  master: yarn\n");
        assertMentions(pretrainError(unknown), unknown + ":4: unknown key cluster.master");
    }
}
