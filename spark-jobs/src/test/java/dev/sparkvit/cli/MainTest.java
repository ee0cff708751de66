package dev.sparkvit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MainTest {

    private static int run(StringWriter err, StringWriter out, String... args) {
        CommandLine commandLine = Main.commandLine();
        commandLine.setErr(new PrintWriter(err, true));
        commandLine.setOut(new PrintWriter(out, true));
        return commandLine.execute(args);
    }

    @Test
    void invalidOptionValueIsBadInputNamingTheOption() {
        StringWriter err = new StringWriter();
        int code = run(err, new StringWriter(), "demo", "--epochs", "0");
        assertEquals(ExitCodes.BAD_INPUT, code);
        assertTrue(err.toString().contains("--epochs = 0"), err.toString());
    }

    @Test
    void unknownOptionIsBadInput() {
        StringWriter err = new StringWriter();
        int code = run(err, new StringWriter(), "demo", "--epoch", "3");
        assertEquals(ExitCodes.BAD_INPUT, code);
        assertTrue(err.toString().contains("--epoch"), err.toString());
    }

    @Test
    void benchFromTheProductJarIsBadInputSayingWhereBenchmarksAre() {
        StringWriter err = new StringWriter();
        int code = run(err, new StringWriter(), "bench", "gemm", "--sizes", "8");
        assertEquals(ExitCodes.BAD_INPUT, code);
        assertEquals(1, err.toString().lines().count(), err.toString());
        assertTrue(err.toString().contains("benchmarks are not in the product jar")
                && err.toString().contains("make bench"), err.toString());
    }

    @Test
    void helpDoesNotListBench() {
        StringWriter out = new StringWriter();
        assertEquals(ExitCodes.OK, run(new StringWriter(), out, "--help"));
        assertTrue(!out.toString().contains("bench"), out.toString());
    }

    @Test
    void modelSummaryReportsVitBaseFigures() {
        StringWriter out = new StringWriter();
        assertEquals(ExitCodes.OK, run(new StringWriter(), out, "model-summary", "--preset", "vit_base_patch16_224"));
        String text = out.toString();
        assertTrue(text.contains("86,586,088 (86.59 M)"), text);
        assertTrue(text.contains("(17.56 G)"), text);
        assertTrue(text.contains("18,432 parameters (0.0213% of all)"), text);
    }

    @Test
    void modelSummaryUnknownPresetIsBadInput() {
        StringWriter err = new StringWriter();
        assertEquals(ExitCodes.BAD_INPUT, run(err, new StringWriter(), "model-summary", "--preset", "vit_huge"));
        assertTrue(err.toString().contains("known presets"), err.toString());
    }

    @Test
    void helpListsTheDemo() {
        StringWriter out = new StringWriter();
        assertEquals(ExitCodes.OK, run(new StringWriter(), out, "--help"));
        assertTrue(out.toString().contains("demo"), out.toString());
    }

    @Test
    void retrainAgainstALockedRegistryExitsWithLockHeldAndIngestsNothing(@org.junit.jupiter.api.io.TempDir
            java.nio.file.Path tmp) throws Exception {
        java.nio.file.Files.createDirectories(tmp.resolve("incoming"));
        java.nio.file.Files.createDirectories(tmp.resolve("registry"));
        java.nio.file.Files.writeString(tmp.resolve("registry").resolve(".lock"), "pid 7@other since then\n");
        java.nio.file.Files.writeString(tmp.resolve("finetune.yaml"), "model:\n  preset: vit_nano_patch4_32\n");
        java.nio.file.Path config = tmp.resolve("retrain.yaml");
        java.nio.file.Files.writeString(config, "input: " + tmp.resolve("incoming") + "\ndataset: "
                + tmp.resolve("ds") + "\nregistry: " + tmp.resolve("registry") + "\nfinetune_config: "
                + tmp.resolve("finetune.yaml") + "\n");
        StringWriter err = new StringWriter();
        int code = run(err, new StringWriter(), "retrain", "--config", config.toString());
        assertEquals(ExitCodes.LOCK_HELD, code, err.toString());
        assertTrue(err.toString().contains("pid 7@other") && err.toString().contains(".lock"), err.toString());
        assertTrue(!java.nio.file.Files.exists(tmp.resolve("ds")), "nothing ingested");
    }

    @Test
    void retrainWithAnUnknownGateKeyIsBadInputNamingTheKey(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        java.nio.file.Files.createDirectories(tmp.resolve("incoming"));
        java.nio.file.Files.writeString(tmp.resolve("finetune.yaml"), "model:\n  preset: vit_nano_patch4_32\n");
        java.nio.file.Path config = tmp.resolve("retrain.yaml");
        java.nio.file.Files.writeString(config, "input: " + tmp.resolve("incoming") + "\ndataset: x\nregistry: "
                + tmp.resolve("registry") + "\nfinetune_config: " + tmp.resolve("finetune.yaml")
                + "\ngate:\n  metrc: accuracy\n");
        StringWriter err = new StringWriter();
        assertEquals(ExitCodes.BAD_INPUT, run(err, new StringWriter(), "retrain", "--config", config.toString()));
        assertTrue(err.toString().contains("unknown key gate.metrc") && err.toString().contains("retrain.yaml"),
                err.toString());
    }
    @picocli.CommandLine.Command(name = "oom")
    static final class OutOfMemoryCommand implements java.util.concurrent.Callable<Integer> {
        @picocli.CommandLine.Option(names = "--remote")
        boolean remote;

        @Override
        public Integer call() {
            // as Spark reports a task's error: nested (a local master), or as text (an executor)
            throw remote ? new IllegalStateException("Job aborted due to stage failure: Task 0 in stage 3.0 failed "
                    + "4 times, most recent failure: Lost task 0.3: java.lang.OutOfMemoryError: Java heap space\n"
                    + "\tat dev.sparkvit.model.layers.SelfAttention.updateOutput(SelfAttention.java:1)")
                    : new RuntimeException("Job aborted", new java.util.concurrent.ExecutionException(
                            "java.lang.OutOfMemoryError: Java heap space", new OutOfMemoryError("Java heap space")));
        }
    }

    /** Issue 20, defect 7: before, an OutOfMemoryError ended the command with a trace and no sparkvit: line. */
    @Test
    void anOutOfMemoryErrorEndsWithOneLineNamingTheHeapTheShapeAndTheKnobs() {
        dev.sparkvit.jobs.train.MemoryUse.training("vit_nano_patch4_32", 128, 1025, 64);
        for (String[] args : new String[][] {{"oom"}, {"oom", "--remote"}}) {
            java.io.StringWriter err = new java.io.StringWriter();
            CommandLine commandLine = Main.commandLine().addSubcommand(new OutOfMemoryCommand());
            commandLine.setErr(new PrintWriter(err, true));
            assertEquals(ExitCodes.INTERNAL, commandLine.execute(args));
            String line = err.toString().strip();
            assertEquals(-1, line.indexOf('\n'), line);
            assertTrue(line.startsWith("sparkvit: out of memory (Java heap space" + (args.length == 1 ? ")"
                    : " on an executor)")), line);
            assertTrue(line.contains("MiB") && line.contains("1025 tokens x 64 images per replica")
                    && line.contains("training.batch_size") && line.contains("data.img_size")
                    && line.contains("--executor-memory"), line);
        }
    }
}
