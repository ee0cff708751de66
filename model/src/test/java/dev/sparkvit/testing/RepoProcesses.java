package dev.sparkvit.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Real processes of the slow tests, started from the repository root: the repository's scripts ({@code submit/}),
 * child JVMs. Each writes its stdout and stderr to {@code logs/<name>.out} and {@code .err}.
 */
public final class RepoProcesses {
    /** The repository root (Surefire runs each module's tests in its folder). */
    public static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    private RepoProcesses() {
    }

    /** A started process and the files its stdout and stderr go to. */
    public record Started(Process process, Path out, Path err) {
    }

    /**
     * Starts {@code command} from the repository root with {@code env} added to this JVM's environment and Spark kept
     * on loopback ({@code SPARK_LOCAL_IP=127.0.0.1}, unless {@code env} says otherwise).
     */
    public static Started start(Path logs, String name, List<String> command, Map<String, String> env)
            throws IOException {
        Files.createDirectories(logs);
        Path out = logs.resolve(name + ".out");
        Path err = logs.resolve(name + ".err");
        ProcessBuilder builder = new ProcessBuilder(command).directory(ROOT.toFile()).redirectOutput(out.toFile())
                .redirectError(err.toFile());
        builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        builder.environment().putAll(env);
        return new Started(builder.start(), out, err);
    }
}
