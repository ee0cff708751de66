package dev.sparkvit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.jobs.inference.ClassifierWeights;
import dev.sparkvit.model.io.VitWeights;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.model.vit.VitPresets;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Weights files a user passes to the CLI, damaged in real ways (truncated, a flipped bit, another format, an empty
 * file, a damaged checkpoint folder): every command stops with exit code 2 and one line naming the file, before
 * Spark starts (these runs start no Spark session), and writes nothing.
 */
class DamagedWeightsTest {
    private static final String PRESET = "vit_nano_patch4_32";
    private static final VitConfig CONFIG = VitPresets.get(PRESET).withImgSize(16);

    @TempDir
    static Path tmp;
    private static byte[] classifier;
    private static byte[] encoder;

    @BeforeAll
    static void writeValidFiles() throws Exception {
        Path file = tmp.resolve("valid-classifier.safetensors");
        ClassifierWeights.of(PRESET, VisionTransformer.classifier(CONFIG, 3, 1), List.of("a", "b", "c"),
                Map.of("dataset", tmp.resolve("ds").toString())).save(file);
        classifier = Files.readAllBytes(file);
        Path ssl = tmp.resolve("valid-encoder.safetensors");
        VitWeights.save(VisionTransformer.encoderOnly(CONFIG, 1), ssl, Map.of("preset", PRESET));
        encoder = Files.readAllBytes(ssl);
    }

    /** The ways a weights file arrives damaged, each as the bytes of the file. */
    private static Map<String, byte[]> damaged(byte[] valid) {
        byte[] flipped = valid.clone();
        flipped[flipped.length - 5] ^= 0x20;
        return Map.of("truncated", Arrays.copyOf(valid, valid.length * 2 / 3),
                "bit-flipped", flipped,
                "png", new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H'},
                "empty", new byte[0]);
    }

    private static int run(StringWriter err, String... args) {
        CommandLine commandLine = Main.commandLine();
        commandLine.setErr(new PrintWriter(err, true));
        commandLine.setOut(new PrintWriter(new StringWriter(), true));
        return commandLine.execute(args);
    }

    private static void assertNamed(int code, StringWriter err, Path file, String kind) {
        String text = err.toString().trim();
        assertEquals(ExitCodes.BAD_INPUT, code, kind + ": " + text);
        assertTrue(text.startsWith("sparkvit: ") && text.contains(file.toString()), kind + ": " + text);
        assertEquals(1, text.lines().count(), kind + ": one line, no stack trace: " + text);
    }

    @Test
    void predictWithADamagedModelFileNamesIt() throws Exception {
        Files.createDirectories(tmp.resolve("images"));
        for (Map.Entry<String, byte[]> kind : damaged(classifier).entrySet()) {
            Path model = tmp.resolve("predict-" + kind.getKey() + ".safetensors");
            Files.write(model, kind.getValue());
            StringWriter err = new StringWriter();
            Path output = tmp.resolve("pred-" + kind.getKey());
            int code = run(err, "predict", "--model", model.toString(), "--input", tmp.resolve("images").toString(),
                    "--output", output.toString());
            assertNamed(code, err, model, kind.getKey());
            assertTrue(!Files.exists(output), "nothing written");
        }
    }

    @Test
    void evaluateWithADamagedRunFolderNamesTheFile() throws Exception {
        for (Map.Entry<String, byte[]> kind : damaged(classifier).entrySet()) {
            Path run = tmp.resolve("run-" + kind.getKey());
            Files.createDirectories(run);
            Files.write(run.resolve("finetuned.safetensors"), classifier);
            Files.write(run.resolve("finetuned-ema.safetensors"), kind.getValue());
            StringWriter err = new StringWriter();
            int code = run(err, "evaluate", "--run", run.toString());
            assertNamed(code, err, run.resolve("finetuned-ema.safetensors"), kind.getKey());
            assertTrue(!Files.exists(run.resolve("evaluation")), "nothing written");
        }
    }

    @Test
    void finetuneAndLinearProbeWithADamagedEncoderNameIt() throws Exception {
        Files.createDirectories(tmp.resolve("ds"));
        Path config = tmp.resolve("finetune.yaml");
        Files.writeString(config, "data:\n  dataset: " + tmp.resolve("ds") + "\noutput_dir: " + tmp.resolve("ft")
                + "\n");
        for (Map.Entry<String, byte[]> kind : damaged(encoder).entrySet()) {
            Path ssl = tmp.resolve("ssl-" + kind.getKey() + ".safetensors");
            Files.write(ssl, kind.getValue());
            StringWriter err = new StringWriter();
            assertNamed(run(err, "finetune", "--config", config.toString(), "--ssl-checkpoint", ssl.toString()), err,
                    ssl, "finetune " + kind.getKey());
            StringWriter probeErr = new StringWriter();
            assertNamed(run(probeErr, "linear-probe", "--dataset", tmp.resolve("ds").toString(), "--weights",
                    ssl.toString()), probeErr, ssl, "linear-probe " + kind.getKey());
        }
        assertTrue(!Files.exists(tmp.resolve("ft")), "nothing written");
        // a checkpoint folder given as the encoder, its checksum file lost
        Path partial = tmp.resolve("checkpoints").resolve("iter-000000012");
        Files.createDirectories(partial);
        Files.write(partial.resolve("checkpoint.safetensors"), encoder);
        StringWriter err = new StringWriter();
        assertNamed(run(err, "finetune", "--config", config.toString(), "--ssl-checkpoint", partial.toString()), err,
                partial, "checkpoint folder");
        assertTrue(err.toString().contains("checkpoint.sha256 is missing"), err.toString());
    }
}
