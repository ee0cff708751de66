package dev.sparkvit.testing;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of a child JVM that runs a main class of the test classpath the way this Surefire JVM runs: the
 * same classpath, Java 17 openings (submit/jvm.properties) and logging files. For a test that needs a JVM of its own,
 * such as a SparkContext with another master (a JVM holds one).
 */
public final class ChildJvm {
    private ChildJvm() {
    }

    /** {@code java -Xmx<heap> <openings> <logging> -cp <this classpath> mainClass args...}. */
    public static List<String> command(String heap, String mainClass, List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx" + heap);
        ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-opens")).forEach(command::add);
        for (String property : List.of("log4j.configuration", "log4j.configurationFile")) {
            if (System.getProperty(property) != null) {
                command.add("-D" + property + "=" + System.getProperty(property));
            }
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        command.addAll(args);
        return command;
    }
}
