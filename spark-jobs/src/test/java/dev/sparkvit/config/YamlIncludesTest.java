package dev.sparkvit.config;

import dev.sparkvit.jobs.finetune.FinetuneKeys;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.BATCH_SIZE;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.DATASET;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.EPOCHS;
import static dev.sparkvit.jobs.train.TrainingKeys.FREEZEOUT;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.LEARNING_RATE;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.PROJECTION_DIM;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.TEMPERATURE;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.WARMUP_EPOCHS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.jobs.finetune.FinetuneConfig;
import dev.sparkvit.jobs.finetune.FinetuneSettings;
import dev.sparkvit.jobs.pretrain.PretrainConfig;
import dev.sparkvit.jobs.pretrain.PretrainSettings;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code include:} layering: merge order, deep merge, --set on top, and errors that name the fragment. */
class YamlIncludesTest {
    @TempDir
    Path tmp;

    /** Writes {@code yaml} (DS standing for an existing dataset folder) to {@code name} under tmp. */
    private Path write(String name, String yaml) throws IOException {
        Files.createDirectories(tmp.resolve("ds"));
        Path file = tmp.resolve(name);
        Files.createDirectories(file.getParent());
        Files.writeString(file, yaml.replace("DS", tmp.resolve("ds").toString()));
        return file;
    }

    private PretrainSettings pretrain(Path file, String... sets) {
        return PretrainConfig.read(YamlConfig.load(file).with(List.of(sets)));
    }

    private String pretrainError(Path file, String... sets) {
        return assertThrows(ConfigException.class, () -> pretrain(file, sets)).getMessage();
    }

    private static void assertMentions(String message, String... parts) {
        for (String part : parts) {
            assertTrue(message.contains(part), "expected '" + part + "' in: " + message);
        }
    }

    /**
     * A config on another Hadoop file system (a yarn-cluster driver reads {@code --config hdfs://...}): its includes
     * resolve against its folder there, and messages name it by its URI.
     */
    @Test
    void aRemoteConfigAndItsIncludesAreReadThroughHadoop() throws IOException {
        write("conf/model/m.yaml", "model:\n  preset: vit_tiny_patch4_32\n");
        write("conf/pretrain.yaml", "include: [model/m.yaml]\ndata:\n  dataset: hdfs://nn:8020/ds\n"
                + "training:\n  epochs: 0\n");
        String remote = "loopback://" + tmp.resolve("conf/pretrain.yaml");
        String error = assertThrows(ConfigException.class, () -> PretrainConfig.read(YamlConfig.load(remote)))
                .getMessage();
        assertMentions(error, remote + ":5", "training.epochs = 0");
        PretrainSettings s = PretrainConfig.read(YamlConfig.load(remote).with(List.of("training.epochs=20")));
        assertEquals("vit_tiny_patch4_32", s.preset());
        assertEquals("hdfs://nn:8020/ds", s.get(DATASET));
        write("conf/loop.yaml", "include: [loop.yaml]\n");
        assertMentions(assertThrows(ConfigException.class, () -> YamlConfig.load("loopback://"
                + tmp.resolve("conf/loop.yaml"))).getMessage(), "makes a cycle");
        assertMentions(assertThrows(ConfigException.class, () -> YamlConfig.load("loopback://"
                + tmp.resolve("conf/none.yaml"))).getMessage(), "does not exist");
    }

    @Test
    void includesMergeInOrderUnderTheJobFileSectionBySection() throws IOException {
        write("frag/a.yaml", "training:\n  epochs: 5\n  batch_size: 32\n  freezeout:\n    enabled: true\n"
                + "    t0: 0.5\ntemperature: 0.3\n");
        write("frag/b.yaml", "training:\n  epochs: 7\n  freezeout:\n    t0: 0.6\nprojection_dim: 64\n");
        Path job = write("job.yaml", "include: [frag/a.yaml, frag/b.yaml]\ndata:\n  dataset: DS\n"
                + "training:\n  learning_rate: 0.01\nprojection_dim: 32\n");
        PretrainSettings s = pretrain(job);
        assertEquals(7, s.get(EPOCHS), "the later include overrides the earlier");
        assertEquals(32, s.get(BATCH_SIZE), "keys of a section only the earlier include sets survive");
        assertTrue(s.get(FREEZEOUT).enabled(), "nested sections merge too");
        assertEquals(0.6, s.get(FREEZEOUT).t0());
        assertEquals(0.01, s.get(LEARNING_RATE), "the job file's own keys merge with the includes' sections");
        assertEquals(0.3, s.get(TEMPERATURE));
        assertEquals(32, s.get(PROJECTION_DIM), "the job file overrides its includes");
        assertEquals(job.toString(), s.source());
    }

    @Test
    void includesNestRelativeToTheIncludingFile() throws IOException {
        write("frag/deeper/c.yaml", "training:\n  epochs: 4\n  warmup_epochs: 1\n");
        write("frag/a.yaml", "include: [deeper/c.yaml]\ntraining:\n  epochs: 6\n");
        Path job = write("job.yaml", "include: [frag/a.yaml]\ndata:\n  dataset: DS\n");
        PretrainSettings s = pretrain(job);
        assertEquals(6, s.get(EPOCHS), "a fragment overrides what it includes");
        assertEquals(1, s.get(WARMUP_EPOCHS), "a fragment's include is resolved against the fragment's folder");
    }

    @Test
    void listsAndValuesReplaceRatherThanMerge() throws IOException {
        write("frag/eval.yaml", "evaluation:\n  tta_views: [identity, flip, crops]\nmodel:\n"
                + "  ssl_pretrained_path: " + tmp.resolve("no-such-weights") + "\n");
        Path job = write("finetune.yaml", "include: [frag/eval.yaml]\ndata:\n  dataset: DS\nevaluation:\n"
                + "  tta_views: [flip]\nmodel:\n  ssl_pretrained_path: null\n");
        FinetuneSettings s = FinetuneConfig.read(YamlConfig.load(job));
        assertEquals(List.of("flip"), s.get(FinetuneKeys.TTA));
        assertTrue(s.fromScratch(), "an explicit null in the job file replaces the fragment's value");
    }

    @Test
    void setOverridesBeatIncludes() throws IOException {
        write("frag/a.yaml", "training:\n  epochs: 5\n  batch_size: 32\n");
        Path job = write("job.yaml", "include: [frag/a.yaml]\ndata:\n  dataset: DS\ntraining:\n  epochs: 8\n");
        PretrainSettings s = pretrain(job, "training.epochs=9", "training.batch_size=16");
        assertEquals(9, s.get(EPOCHS));
        assertEquals(16, s.get(BATCH_SIZE));
        String message = pretrainError(job, "training.batch_size=1");
        assertMentions(message, "--set training.batch_size", "training.batch_size = 1");
        assertFalse(message.contains("a.yaml"), message);
    }

    @Test
    void anErrorInAFragmentNamesTheFragmentAndItsLine() throws IOException {
        Path fragment = write("frag/train.yaml", "# a comment\ntraining:\n  epochs: many\n");
        Path job = write("job.yaml", "include: [frag/train.yaml]\ndata:\n  dataset: DS\n");
        assertMentions(pretrainError(job), fragment + ":3: training.epochs = many is invalid", "an integer");

        Path typo = write("frag/typo.yaml", "training:\n  epochs: 3\n  learning_rte: 0.1\n");
        Path job2 = write("job2.yaml", "data:\n  dataset: DS\ninclude: [frag/typo.yaml]\n");
        assertMentions(pretrainError(job2), typo + ":3: unknown key training.learning_rte");

        Path data = write("frag/data.yaml", "\ndata:\n  dataset: " + tmp.resolve("missing") + "\n");
        Path job3 = write("job3.yaml", "include: [frag/data.yaml]\n");
        assertMentions(pretrainError(job3), "data.dataset = " + tmp.resolve("missing") + " (" + data + ":3)",
                "not a folder");
    }

    @Test
    void anUnknownTopLevelSectionIsRejectedInAFragmentToo() throws IOException {
        Path fragment = write("frag/spark.yaml", "spark:\n  master: yarn\n");
        Path job = write("job.yaml", "include: [frag/spark.yaml]\ndata:\n  dataset: DS\n");
        assertMentions(pretrainError(job), fragment + ":2: unknown key spark");
        Path direct = write("job2.yaml", "data:\n  dataset: DS\nlauncher:\n  queue: default\n");
        assertMentions(pretrainError(direct), direct + ":4: unknown key launcher");
    }

    @Test
    void aMissingIncludeNamesTheIncludingFileAndLine() throws IOException {
        Path job = write("job.yaml", "data:\n  dataset: DS\ninclude:\n  - frag/nope.yaml\n");
        ConfigException e = assertThrows(ConfigException.class, () -> YamlConfig.load(job));
        assertMentions(e.getMessage(), job + ":4: include frag/nope.yaml", tmp.resolve("frag/nope.yaml").toString(),
                "does not exist");
        Files.createDirectories(tmp.resolve("folder.yaml"));
        Path dir = write("job2.yaml", "include: [folder.yaml]\n");
        assertMentions(assertThrows(ConfigException.class, () -> YamlConfig.load(dir)).getMessage(),
                dir + ":1: include folder.yaml", "not a readable file");
    }

    @Test
    void anIncludeCycleNamesTheChain() throws IOException {
        Path a = write("a.yaml", "include: [b.yaml]\n");
        Path b = write("b.yaml", "\ninclude: [a.yaml]\n");
        ConfigException e = assertThrows(ConfigException.class, () -> YamlConfig.load(a));
        assertMentions(e.getMessage(), b + ":2: include a.yaml makes a cycle: " + a + " -> " + b + " -> " + a);
        Path self = write("self.yaml", "include: [./self.yaml]\n");
        assertMentions(assertThrows(ConfigException.class, () -> YamlConfig.load(self)).getMessage(),
                "makes a cycle: " + self + " -> " + self);
    }

    @Test
    void aDiamondIsNotACycle() throws IOException {
        write("common.yaml", "training:\n  epochs: 4\n");
        write("x.yaml", "include: [common.yaml]\n");
        write("y.yaml", "include: [common.yaml]\ntemperature: 0.5\n");
        Path job = write("job.yaml", "include: [x.yaml, y.yaml]\ndata:\n  dataset: DS\n");
        PretrainSettings s = pretrain(job);
        assertEquals(4, s.get(EPOCHS));
        assertEquals(0.5, s.get(TEMPERATURE));
    }

    @Test
    void includeMustBeAListOfPaths() throws IOException {
        Path scalar = write("scalar.yaml", "include: model.yaml\n");
        assertMentions(assertThrows(ConfigException.class, () -> YamlConfig.load(scalar)).getMessage(),
                scalar + ":1: include = model.yaml is invalid: expected a list of files");
        Path mapping = write("mapping.yaml", "data:\n  dataset: DS\ninclude:\n  model: m.yaml\n");
        assertMentions(assertThrows(ConfigException.class, () -> YamlConfig.load(mapping)).getMessage(),
                mapping + ":4: include = a mapping is invalid");
        Path nested = write("nested.yaml", "include: [[m.yaml]]\n");
        assertMentions(assertThrows(ConfigException.class, () -> YamlConfig.load(nested)).getMessage(),
                nested + ":1: include = [[m.yaml]] is invalid", "(found [m.yaml])");
        Path empty = write("empty.yaml", "include:\n  - \n");
        assertMentions(assertThrows(ConfigException.class, () -> YamlConfig.load(empty)).getMessage(),
                "include = [null] is invalid");
    }

    @Test
    void includeIsOnlyForFiles() {
        assertMentions(assertThrows(ConfigException.class,
                () -> YamlConfig.parse("text", new StringReader("include: [a.yaml]\n"))).getMessage(),
                "text:1: include is only allowed in a config file");
        assertMentions(assertThrows(ConfigException.class,
                () -> YamlConfig.parse("text", new StringReader("")).with(List.of("include=[a.yaml]")))
                .getMessage(), "--set include: includes can only be written in config files");
    }
}
