package dev.sparkvit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.storage.MiniHdfs;
import dev.sparkvit.jobs.retrain.RegistryFixtureAccess;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.apache.hadoop.fs.FileSystem;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code sparkvit retrain} against a damaged registry, through the CLI: a damaged pointer or production model is exit
 * 2 with one line naming the file, before Spark starts, with the registry unchanged and unlocked; {@code --status}
 * lists every version, damaged ones marked, without running anything.
 */
class RetrainCommandTest {

    private static int run(StringWriter err, StringWriter out, String... args) {
        CommandLine commandLine = Main.commandLine();
        commandLine.setErr(new PrintWriter(err, true));
        commandLine.setOut(new PrintWriter(out, true));
        return commandLine.execute(args);
    }

    private static Path config(Path tmp) throws Exception {
        Files.createDirectories(tmp.resolve("incoming"));
        Files.writeString(tmp.resolve("finetune.yaml"), "model:\n  preset: vit_nano_patch4_32\n");
        Path config = tmp.resolve("retrain.yaml");
        Files.writeString(config, "input: " + tmp.resolve("incoming") + "\ndataset: " + tmp.resolve("ds")
                + "\nregistry: " + tmp.resolve("registry") + "\nfinetune_config: " + tmp.resolve("finetune.yaml")
                + "\n");
        return config;
    }

    @Test
    void aDamagedProductionPointerIsExitTwoNamingItBeforeSparkStarts(@TempDir Path tmp) throws Exception {
        Path config = config(tmp);
        Path root = tmp.resolve("registry");
        RegistryFixtureAccess.registry(root, 2);
        Files.write(root.resolve("production"), new byte[] {'v', '0', 0, (byte) 0xfe});
        Map<String, String> before = RegistryFixtureAccess.snapshot(root);
        StringWriter err = new StringWriter();
        int code = run(err, new StringWriter(), "retrain", "--config", config.toString());
        assertEquals(ExitCodes.BAD_INPUT, code, err.toString());
        String line = err.toString().trim();
        assertTrue(line.startsWith("sparkvit: registry pointer " + root.resolve("production") + " holds 'v0??'")
                && line.lines().count() == 1, line);
        assertEquals(before, RegistryFixtureAccess.snapshot(root), "unchanged, the lock released");
        assertTrue(!Files.exists(tmp.resolve("ds")), "nothing ingested");
    }

    @Test
    void aRegistryOnS3IsExitTwoWithOneLineNamingTheKeyBeforeAnythingRuns(@TempDir Path tmp) throws Exception {
        Path config = config(tmp);
        Files.writeString(config, Files.readString(config).replace("registry: " + tmp.resolve("registry"),
                "registry: s3a://models/registry"));
        for (String[] args : new String[][] {{"retrain", "--config", config.toString()}, {"retrain", "--config",
                config.toString(), "--status"}}) {
            StringWriter err = new StringWriter();
            int code = run(err, new StringWriter(), args);
            assertEquals(ExitCodes.BAD_INPUT, code, err.toString());
            String line = err.toString().trim();
            assertTrue(line.startsWith("sparkvit: " + config + ": registry = s3a://models/registry is not "
                    + "supported") && line.contains("no atomic rename") && line.lines().count() == 1, line);
        }
        assertTrue(!Files.exists(tmp.resolve("ds")), "nothing ingested");
    }

    @Test
    void onHdfsALiveLockOfAnotherHostIsExitFourBeforeSparkStartsAndStatusShowsItsLease(@TempDir Path tmp)
            throws Exception {
        try (MiniHdfs hdfs = MiniHdfs.start(tmp.resolve("hdfs"))) {
            String root = hdfs.uri() + "/models/registry";
            RegistryFixtureAccess.registry(root, hdfs.conf(), tmp.resolve("staging"), 2);
            Path config = config(tmp);
            Files.writeString(config, Files.readString(config).replace("registry: " + tmp.resolve("registry"),
                    "registry: " + root));
            FileSystem fs = FileSystem.get(URI.create(hdfs.uri()), hdfs.conf());
            String lock = "{\"pid\":4242,\"host\":\"build-7.example.org\",\"since\":\"" + Instant.now()
                    + "\",\"lease_seconds\":300}\n";
            try (OutputStream out = fs.create(new org.apache.hadoop.fs.Path(root + "/.lock"), false)) {
                out.write(lock.getBytes(StandardCharsets.UTF_8));
            }
            StringWriter err = new StringWriter();
            assertEquals(ExitCodes.LOCK_HELD, run(err, new StringWriter(), "retrain", "--config", config.toString()),
                    err.toString());
            String line = err.toString().trim();
            assertTrue(line.startsWith("sparkvit: registry " + root + " is locked by another retrain run (pid 4242 "
                    + "on build-7.example.org") && line.contains("lease 300 s, last heartbeat")
                    && line.lines().count() == 1, line);
            assertTrue(!Files.exists(tmp.resolve("ds")), "nothing ingested");

            StringWriter out = new StringWriter();
            assertEquals(ExitCodes.OK, run(new StringWriter(), out, "retrain", "--config", config.toString(),
                    "--status"));
            String[] lines = out.toString().split("\n");
            assertEquals(3, lines.length, out.toString());
            assertTrue(lines[0].startsWith("registry " + root + ": locked by a retrain run (pid 4242 on "
                    + "build-7.example.org"), lines[0]);
            assertTrue(lines[2].startsWith("  v0002 (production)  promoted"), lines[2]);
            try (var in = fs.open(new org.apache.hadoop.fs.Path(root + "/.lock"))) {
                assertEquals(lock, new String(in.readAllBytes(), StandardCharsets.UTF_8), "the lock stays");
            }
        }
    }

    @Test
    void statusListsEveryVersionWithTheDamagedOnesMarked(@TempDir Path tmp) throws Exception {
        Path config = config(tmp);
        Path root = tmp.resolve("registry");
        RegistryFixtureAccess.registry(root, 3);
        Files.writeString(root.resolve("versions").resolve("v0002").resolve("version.json"), "not json");
        Files.writeString(root.resolve(".lock"), "?");
        Map<String, String> before = RegistryFixtureAccess.snapshot(root);
        StringWriter out = new StringWriter();
        assertEquals(ExitCodes.OK, run(new StringWriter(), out, "retrain", "--config", config.toString(),
                "--status"));
        String[] lines = out.toString().split("\n");
        assertEquals(4, lines.length, out.toString());
        assertTrue(lines[0].startsWith("registry " + root + ": registry " + root + " is locked: .lock holds '?'"),
                lines[0]);
        assertTrue(lines[1].startsWith("  v0001  promoted"), lines[1]);
        assertTrue(lines[2].startsWith("  v0002  damaged: registry file ") && lines[2].contains("not valid JSON"),
                lines[2]);
        assertTrue(lines[3].startsWith("  v0003 (production)  promoted"), lines[3]);
        assertEquals(before, RegistryFixtureAccess.snapshot(root), "--status changes nothing");
    }
}
