package dev.sparkvit.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * A real two-worker standalone Spark cluster for the slow tests: its own master and workers
 * ({@code submit/standalone.sh}, one core each) on free loopback ports, every daemon's state in a folder of the test,
 * stopped by {@link #close} even when the test fails (and no executor JVM of it survives). Needs the Spark
 * distribution of {@code submit/spark-dist.sh} ({@link #sparkHome}; installed once, about 215 MB). Every script of
 * {@code submit/} gets {@link #env()}, so {@code submit/spark-submit.sh} with {@link #masterUrl()} submits to it; a
 * driver in a test's own JVM reaches it with {@link #masterUrl()} and {@link #applicationJars} in {@code spark.jars}.
 */
public final class StandaloneCluster implements AutoCloseable {
    private final Path logs;
    private final Map<String, String> env = new LinkedHashMap<>();
    private final int port;

    /** A cluster (not started) with its state under {@code dir}, on {@code sparkHome}'s distribution. */
    public StandaloneCluster(Path dir, String sparkHome) throws IOException {
        this.logs = dir.resolve("logs");
        int[] ports = freePorts();
        this.port = ports[0];
        env.put("SPARKVIT_CACHE", dir.resolve("cache").toString()); // daemon state, work folders, submitted jars
        env.put("SPARK_HOME", sparkHome);
        env.put("SPARKVIT_MASTER_PORT", String.valueOf(ports[0]));
        env.put("SPARKVIT_MASTER_UI_PORT", String.valueOf(ports[1]));
        env.put("SPARKVIT_MASTER_UI", "http://127.0.0.1:" + ports[1]);
        env.put("SPARKVIT_WORKER_PORT_BASE", String.valueOf(ports[2]));
        env.put("SPARKVIT_WORKER_UI_PORT_BASE", String.valueOf(ports[3]));
        env.put("SPARKVIT_WORKER_MEMORY", "1536m");
    }

    /**
     * Installs the distribution when missing ({@code submit/spark-dist.sh}, logs under {@code logs}) and returns its
     * {@code SPARK_HOME}.
     */
    public static String sparkHome(Path logs) throws Exception {
        Run dist = run(logs, "spark-dist", List.of("submit/spark-dist.sh"), Map.of(), 20);
        if (dist.exit() != 0) {
            throw new AssertionError("submit/spark-dist.sh failed: " + dist.output());
        }
        return dist.stdout().strip().lines().reduce((a, b) -> b).orElseThrow();
    }

    /** Master, master UI, and two bases whose next two ports are free. */
    private static int[] freePorts() throws IOException {
        Random random = new Random();
        for (int tries = 0; tries < 200; tries++) {
            int base = 20_000 + random.nextInt(20_000);
            int[] wanted = {base, base + 1, base + 10, base + 13, base + 11, base + 12, base + 14, base + 15};
            boolean free = true;
            for (int p : wanted) {
                try (ServerSocket socket = new ServerSocket(p, 1, InetAddress.getLoopbackAddress())) {
                    socket.setReuseAddress(true);
                } catch (IOException taken) {
                    free = false;
                    break;
                }
            }
            if (free) {
                return new int[] {base, base + 1, base + 10, base + 13};
            }
        }
        throw new IOException("no free ports for the test cluster");
    }

    /** The environment every {@code submit/} script needs to reach this cluster. */
    public Map<String, String> env() {
        return Map.copyOf(env);
    }

    public String masterUrl() {
        return "spark://127.0.0.1:" + port;
    }

    /** The folder of the scripts' and processes' output files. */
    public Path logs() {
        return logs;
    }

    /** The daemons' folder ({@code logs/}, {@code pids/}, {@code work/worker-i/}). */
    public Path state() {
        return Path.of(env.get("SPARKVIT_CACHE")).resolve("standalone");
    }

    /** Starts the master and two workers and waits until both workers are alive. */
    public void up() throws Exception {
        Run up = run(logs, "cluster-up", List.of("submit/standalone.sh", "up"), env, 5);
        if (up.exit() != 0) {
            throw new AssertionError("submit/standalone.sh up failed: " + up.output());
        }
    }

    @Override
    public void close() throws Exception {
        run(logs, "cluster-down", List.of("submit/standalone.sh", "down"), env, 5);
        // a worker stops its executors when it stops; make sure no executor of this cluster survives it
        for (long pid : executorPids(state().toString())) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    /** Pids of executor JVMs whose command line holds {@code text} (the app id, or the cluster's state folder). */
    public static List<Long> executorPids(String text) throws IOException {
        List<Long> pids = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String cmd = new String(Files.readAllBytes(proc.resolve("cmdline"))).replace('\0', ' ');
                    if (cmd.contains("CoarseGrainedExecutorBackend") && cmd.contains(text)) {
                        pids.add(Long.parseLong(proc.getFileName().toString()));
                    }
                } catch (IOException gone) {
                    // exited while listed
                }
            }
        }
        return pids;
    }

    /**
     * The jars a driver in this JVM gives {@code spark.jars} so that its executors load the classes it does: each
     * folder of {@code java.class.path} (the modules' {@code target/classes} and {@code target/test-classes}) packed
     * into a jar under {@code dir}, and every jar of the classpath whose artifact the distribution's {@code jars/}
     * does not have (Spark loads parent-first, so its own copy would win anyway: the rule of
     * {@code submit/spark-submit.sh}).
     */
    public static List<String> applicationJars(Path dir, String sparkHome) throws IOException {
        Set<String> spark = new HashSet<>();
        try (Stream<Path> jars = Files.list(Path.of(sparkHome, "jars"))) {
            jars.map(p -> artifact(p.getFileName().toString())).forEach(spark::add);
        }
        Files.createDirectories(dir);
        List<String> out = new ArrayList<>();
        int folders = 0;
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path path = Path.of(entry);
            if (Files.isDirectory(path)) {
                Path jar = dir.resolve("classes-" + folders++ + "-" + path.getParent().getParent().getFileName()
                        + "-" + path.getFileName() + ".jar");
                pack(path, jar);
                out.add(jar.toUri().toString());
            } else if (entry.endsWith(".jar") && Files.isRegularFile(path)
                    && !spark.contains(artifact(path.getFileName().toString()))) {
                out.add(path.toUri().toString());
            }
        }
        return out;
    }

    /** {@code name-1.2.3.jar} -> {@code name}. */
    static String artifact(String jarName) {
        return jarName.replaceFirst("-\\d[^-]*(-[^-]*)*\\.jar$", "").replaceFirst("\\.jar$", "");
    }

    private static void pack(Path folder, Path jar) throws IOException {
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
                Stream<Path> files = Files.walk(folder)) {
            for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
                out.putNextEntry(new JarEntry(folder.relativize(file).toString().replace('\\', '/')));
                Files.copy(file, (OutputStream) out);
                out.closeEntry();
            }
        }
    }

    /** A finished process: exit code and its output files. */
    public record Run(int exit, Path out, Path err) {
        public String stdout() throws IOException {
            return Files.readString(out);
        }

        public String output() throws IOException {
            return Files.readString(out) + Files.readString(err);
        }
    }

    /**
     * Runs {@code command} ({@link RepoProcesses#start}) and waits for it; killed, and an {@link AssertionError},
     * after {@code minutes}.
     */
    public static Run run(Path logs, String name, List<String> command, Map<String, String> env, long minutes)
            throws Exception {
        RepoProcesses.Started started = RepoProcesses.start(logs, name, command, env);
        Process process = started.process();
        if (!process.waitFor(minutes, TimeUnit.MINUTES)) {
            process.destroyForcibly().waitFor();
            throw new AssertionError(name + " still running after " + minutes + " minutes: "
                    + Files.readString(started.out()) + Files.readString(started.err()));
        }
        return new Run(process.exitValue(), started.out(), started.err());
    }
}
