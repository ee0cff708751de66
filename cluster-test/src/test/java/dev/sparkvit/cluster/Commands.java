package dev.sparkvit.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Child processes run from the repository root, their stdout and stderr kept in files under a log folder. */
final class Commands {
    private Commands() {
    }

    /** A finished (or, after its timeout, killed: exit -1) command. */
    record Result(int exit, String stdout, String stderr, double seconds) {
        String output() {
            return "--- stdout\n" + tail(stdout) + "\n--- stderr\n" + tail(stderr);
        }

        private static String tail(String s) {
            return s.length() <= 20_000 ? s : "..." + s.substring(s.length() - 20_000);
        }
    }

    /** A running command. */
    record Running(Process process, Path out, Path err, long started) {
        Result await(long timeoutSeconds) throws IOException, InterruptedException {
            int exit;
            if (process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                exit = process.exitValue();
            } else {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                exit = -1;
            }
            return new Result(exit, Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8), (System.nanoTime() - started) / 1e9);
        }

        String stdoutSoFar() throws IOException {
            return Files.readString(out, StandardCharsets.UTF_8);
        }
    }

    static Running start(Path logs, String name, List<String> command, Map<String, String> env) throws IOException {
        Files.createDirectories(logs);
        Path out = logs.resolve(name + ".out");
        Path err = logs.resolve(name + ".err");
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().putAll(env);
        return new Running(pb.start(), out, err, System.nanoTime());
    }

    static Result run(Path logs, String name, List<String> command, Map<String, String> env, long timeoutSeconds)
            throws IOException, InterruptedException {
        return start(logs, name, command, env).await(timeoutSeconds);
    }
}
