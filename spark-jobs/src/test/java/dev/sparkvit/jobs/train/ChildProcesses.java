package dev.sparkvit.jobs.train;

import dev.sparkvit.testing.ChildJvm;
import dev.sparkvit.testing.RepoProcesses;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Real processes for the kill and race tests: sparkvit CLI JVMs, the repository's scripts, and their output.
 */
public final class ChildProcesses {
    /** The repository root (Surefire runs the tests in spark-jobs/). */
    static final Path ROOT = RepoProcesses.ROOT;

    private ChildProcesses() {
    }

    /** A started process and the files its stdout and stderr go to. */
    public record Child(Process process, Path out, Path err) {
        public String stdout() throws IOException {
            return Files.readString(out);
        }

        public String output() throws IOException {
            return Files.readString(out) + Files.readString(err);
        }

        /** Waits up to {@code minutes} for the exit and returns its code; a process still running is killed. */
        public int exit(long minutes) throws Exception {
            if (!process.waitFor(minutes, TimeUnit.MINUTES)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError("still running after " + minutes + " minutes: " + output());
            }
            return process.exitValue();
        }
    }

    /**
     * {@code sparkvit ARGS} in its own JVM (local Spark, as submit/sparkvit runs it), with the test JVM's classpath
     * and Java 17 options; {@link Process#pid()} is the JVM itself.
     */
    public static Child sparkvit(Path logs, String name, List<String> args) throws IOException {
        // vit_tiny checkpointing every iteration: 2g ran out once under load (docs/RELIABILITY.md)
        List<String> command = ChildJvm.command("3g", "dev.sparkvit.cli.Main", args);
        return start(logs, name, command, Map.of());
    }

    /** A command run from the repository root with {@code env} added to this JVM's environment. */
    static Child start(Path logs, String name, List<String> command, Map<String, String> env) throws IOException {
        RepoProcesses.Started started = RepoProcesses.start(logs, name, command, env);
        return new Child(started.process(), started.out(), started.err());
    }

    /** SHA-256 of a file, hex. */
    static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    /** The last line of {@code text} that starts with {@code prefix} (after leading spaces), or "". */
    static String lastLine(String text, String prefix) {
        return text.lines().map(String::strip).filter(l -> l.startsWith(prefix)).reduce((a, b) -> b).orElse("");
    }
}
