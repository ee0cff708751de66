package dev.sparkvit.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs sparkvit on the mini YARN cluster as a user would: submit/spark-submit.sh, unchanged, with a cluster profile
 * (written here: yarn, the deploy mode, one executor of 1 core and 1g) and --conf options. Two of those are for
 * the loopback mini cluster only: spark.yarn.jars=local:... (the containers read Spark's jars from this machine's
 * distribution instead of an upload of 280 jars per run); SPARK_LOCAL_IP=127.0.0.1 the launcher sets itself for a
 * ResourceManager on loopback. The S3A settings are what any S3-compatible store needs.
 */
final class Submit {
    static final Path ROOT = Path.of("").toAbsolutePath();
    private final Servers servers;
    private final Path logs;

    Submit(Servers servers) {
        this.servers = servers;
        this.logs = servers.dir().resolve("logs");
    }

    static String sparkHome() {
        String home = System.getenv("SPARK_HOME");
        return home != null ? home : Path.of(System.getProperty("user.home"), ".cache/sparkvit/spark-3.1.3").toString();
    }

    /** A cluster profile for {@code mode} (client or cluster), executors of {@code executorMemory}. */
    Path profile(String mode, String executorMemory) throws IOException {
        Path file = servers.dir().resolve("yarn-" + mode + "-" + executorMemory + ".yaml");
        Files.writeString(file, String.join("\n", "# written by cluster-test (Submit.java)", "master: yarn",
                "deploy_mode: " + mode, "queue: default", "executors: 1", "executor_cores: 1",
                "executor_memory: " + executorMemory, "driver_memory: 1g", ""));
        return file;
    }

    List<String> command(String mode, String executorMemory, List<String> sparkOptions, List<String> sparkvit)
            throws IOException {
        List<String> command = new ArrayList<>(List.of("submit/spark-submit.sh", "--cluster",
                profile(mode, executorMemory).toString(), "--conf", "spark.yarn.jars=local:" + sparkHome()
                + "/jars/*"));
        servers.s3aSettings().forEach((k, v) -> command.addAll(List.of("--conf", "spark.hadoop." + k + "=" + v)));
        command.addAll(sparkOptions);
        command.add("--");
        command.addAll(sparkvit);
        return command;
    }

    Commands.Running start(String name, String mode, List<String> sparkOptions, String... sparkvit)
            throws IOException {
        List<String> command = command(mode, "1g", sparkOptions, List.of(sparkvit));
        System.out.println("cluster-test: " + name + ": " + String.join(" ", command));
        return Commands.start(logs, name, command, Map.of("HADOOP_CONF_DIR", servers.hadoopConfDir()));
    }

    /** Runs to the end (at most 15 minutes) and prints how long it took. */
    Commands.Result run(String name, String mode, String... sparkvit) throws IOException, InterruptedException {
        Commands.Result r = start(name, mode, List.of(), sparkvit).await(900);
        System.out.printf("cluster-test: %s: exit %d in %.1f s%n", name, r.exit(), r.seconds());
        return r;
    }
}
