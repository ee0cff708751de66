package dev.sparkvit.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.SyntheticImageFolder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failures on YARN: a yarn-cluster run whose job fails makes spark-submit fail, after one application attempt; a
 * request the cluster can never grant is refused by the launcher's pre-flight in seconds, with one line naming the
 * numbers and no application submitted; an executor container killed with SIGKILL mid-training is replaced and the
 * run restarts from its newest checkpoint (training.max_restarts) and ends with exit 0.
 */
class ClusterFailureTest {
    private static final Pattern RESTART = Pattern.compile("pretrain: restart 1 of at most 2 \\(training.max_restarts\\) "
            + "after .*; continuing from checkpoint (\\S+/iter-0*(\\d+)) once 1 executor\\(s\\) are registered");
    @TempDir
    static Path tmp;
    private static Servers servers;
    private static Submit submit;
    private static ResourceManager rm;
    private static String hdfs;
    private static String dataset;

    @BeforeAll
    static void start() throws Exception {
        servers = Servers.start("ClusterFailureTest", false);
        submit = new Submit(servers);
        rm = new ResourceManager(servers.rmWeb());
        hdfs = servers.hdfs();
        Path raw = tmp.resolve("raw");
        new SyntheticImageFolder(32, 6, 9).writeTo(raw);
        servers.upload(raw, hdfs + "/raw");
        servers.upload(Submit.ROOT.resolve("conf"), hdfs + "/conf");
        dataset = hdfs + "/datasets/shapes";
        Commands.Result ingest = submit.run("ingest", "client", "ingest", "--input", hdfs + "/raw", "--output",
                dataset);
        assertEquals(0, ingest.exit(), ingest.output());
    }

    @AfterAll
    static void stop() throws Exception {
        if (servers != null) {
            servers.close();
        }
    }

    private static List<String> pretrain(String output, String... sets) {
        List<String> args = new ArrayList<>(List.of("pretrain", "--config", hdfs + "/conf/pretrain.yaml", "--set",
                "data.dataset=" + dataset, "--set", "output_dir=" + output, "--set", "training.warmup_epochs=0",
                "--set", "training.batch_size=16", "--set", "training.probe_every_epochs=0"));
        for (String set : sets) {
            args.addAll(List.of("--set", set));
        }
        return args;
    }

    @Test
    void aFailingYarnClusterRunFailsSparkSubmitAfterOneAttempt() throws Exception {
        List<String> before = rm.applications();
        Commands.Result r = submit.run("bad-config-cluster", "cluster", pretrain(hdfs + "/runs/bad",
                "training.optimizer=adamx").toArray(String[]::new));
        String app = rm.newApplication(before);
        assertNotEquals(0, r.exit(), r.output());
        assertEquals(1, rm.attempts(app), "one application attempt of " + app);
        assertTrue(rm.status(app).endsWith("/FAILED"), app + ": " + rm.status(app)); // FAILED/FAILED: the AM's exception
        assertTrue(r.stderr().contains("finished with failed status"), r.output());
        assertTrue(r.stderr().contains("sparkvit exited with code 2: sparkvit: --set training.optimizer: "
                + "training.optimizer = adamx is invalid"), "the job's one line reaches the user: " + r.output());
    }

    @Test
    void anOversizedRequestIsRefusedInSecondsWithOneLine() throws Exception {
        List<String> before = rm.applications();
        List<String> command = submit.command("client", "8g", List.of(), pretrain(hdfs + "/runs/big"));
        Commands.Result r = Commands.run(servers.dir().resolve("logs"), "oversized", command,
                Map.of("HADOOP_CONF_DIR", servers.hadoopConfDir()), 120);
        System.out.printf("cluster-test: oversized: exit %d in %.1f s: %s%n", r.exit(), r.seconds(), r.stderr()
                .strip());
        assertEquals(2, r.exit(), r.output());
        assertTrue(r.seconds() < 30, "refused in " + r.seconds() + " s");
        List<String> errors = r.stderr().lines().filter(l -> l.contains("ERROR")).toList();
        assertEquals(1, errors.size(), r.output());
        assertTrue(errors.get(0).startsWith("spark-submit.sh: ERROR: YARN cannot grant"), errors.get(0));
        assertTrue(errors.get(0).contains("8192") && errors.get(0).contains("4096"),
                "names the request and the node's memory: " + errors.get(0));
        assertEquals(before, rm.applications(), "nothing submitted");
    }

    @Test
    void anExecutorKilledMidTrainingRestartsFromTheNewestCheckpoint() throws Exception {
        String output = hdfs + "/runs/killed";
        List<String> before = rm.applications();
        Commands.Running run = submit.start("executor-kill", "client", List.of(), pretrain(output,
                "training.epochs=4", "training.checkpoint.every_iterations=1", "training.checkpoint.keep=30")
                .toArray(String[]::new));
        String checkpoints = output + "/checkpoints";
        long deadline = System.nanoTime() + 600_000_000_000L;
        while (run.process().isAlive() && System.nanoTime() < deadline && (!servers.exists(checkpoints)
                || servers.list(checkpoints).stream().noneMatch(c -> c.startsWith("iter-")))) {
            Thread.sleep(200);
        }
        if (!run.process().isAlive()) {
            throw new AssertionError("the run ended before its first checkpoint: " + run.await(1).output());
        }
        String app = rm.newApplication(before);
        List<Long> executors = executorPids(app);
        assertEquals(1, executors.size(), "one executor container of " + app);
        List<String> published = servers.list(checkpoints);
        assertTrue(ProcessHandle.of(executors.get(0)).orElseThrow().destroyForcibly(), "SIGKILL sent");
        System.out.printf("cluster-test: executor-kill: SIGKILL to executor pid %d of %s; checkpoints on HDFS then: "
                + "%s%n", executors.get(0), app, published);

        Commands.Result r = run.await(900);
        System.out.printf("cluster-test: executor-kill: exit %d in %.1f s%n", r.exit(), r.seconds());
        assertEquals(0, r.exit(), r.output());
        List<String> restarts = r.stdout().lines().filter(l -> l.startsWith("pretrain: restart ")).toList();
        assertEquals(1, restarts.size(), r.output());
        Matcher m = RESTART.matcher(restarts.get(0));
        assertTrue(m.matches(), restarts.get(0));
        System.out.println("cluster-test: executor-kill: " + restarts.get(0));
        String newestBefore = published.stream().filter(c -> c.startsWith("iter-")).reduce((a, b) -> b).orElseThrow();
        assertTrue(Integer.parseInt(m.group(2)) >= Integer.parseInt(newestBefore.replaceAll("\\D", "")),
                "continued from the newest checkpoint (" + newestBefore + " or newer): " + m.group(1));
        assertEquals(1, rm.attempts(app), "the driver recovered the executor; one application attempt");
        assertTrue(servers.exists(output + "/pretrained-ema.safetensors"), servers.list(output).toString());
    }

    /** Executor JVMs of a YARN application on this machine (their command line names the application). */
    private static List<Long> executorPids(String app) throws Exception {
        List<Long> pids = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String[] args = new String(Files.readAllBytes(proc.resolve("cmdline"))).split("\0");
                    String cmd = String.join(" ", args);
                    // the java process itself, not the shell of the container's launch script
                    if (args[0].endsWith("/bin/java") && cmd.contains("CoarseGrainedExecutorBackend")
                            && cmd.contains(app)) {
                        pids.add(Long.parseLong(proc.getFileName().toString()));
                    }
                } catch (java.io.IOException gone) {
                    // exited while listed
                }
            }
        }
        return pids;
    }
}
