package dev.sparkvit.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.testing.Reliability;
import dev.sparkvit.testing.SharedSpark;
import dev.sparkvit.testing.StandaloneCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * One executor JVM of a pretraining run on a real two-worker standalone cluster (its own master and workers, on free
 * ports, state in a temporary folder; stopped at the end even when the test fails) is killed with SIGKILL at a random
 * moment after a checkpoint: the run completes with exit 0, prints the restart line naming the checkpoint it continued
 * from, and ends with the final quality of the uninterrupted cluster run: the same EMA weights bit for bit (cluster
 * runs are deterministic, and the restart rebuilds the run exactly as --resume does), hence the same loss and probe;
 * a run with another seed shows how far "noise" would be. Needs the Spark distribution (submit/spark-dist.sh
 * installs it once, about 215 MB) and {@code make build}'s jar (make reliability builds it first). About 8 minutes.
 */
@Reliability
@ExtendWith(SharedSpark.class)
class ExecutorKillTest {
    private static final Pattern RESTART = Pattern.compile("pretrain: restart 1 of at most 2 \\(training.max_restarts\\) "
            + "after (.+?) \\(.*\\); continuing from checkpoint (\\S+/iter-0*(\\d+)) once 2 executor\\(s\\) are registered");
    /** The end of the loss curve: the last epoch's mean loss. */
    private static final Pattern LOSS = Pattern.compile("epoch 4/4  loss ([0-9.]+) .*");
    private static final Pattern PROBE = Pattern.compile("pretrained \\(EMA\\) probe accuracy: pooled ([0-9.]+)[ ,].*");

    /** A pretraining run submitted to {@code cluster} with the launcher: 2 executors of 1 core. */
    private static ChildProcesses.Child pretrain(StandaloneCluster cluster, String name, Path output, String... sets)
            throws IOException {
        List<String> command = new ArrayList<>(List.of("submit/spark-submit.sh", "--master", cluster.masterUrl(),
                "--executors", "2", "--executor-memory", "1g", "--", "pretrain", "--config", "conf/pretrain.yaml",
                "--set", "output_dir=" + output));
        for (String set : sets) {
            command.addAll(List.of("--set", set));
        }
        return ChildProcesses.start(cluster.logs(), name, command, cluster.env());
    }

    /** Application ids that have a work folder under the cluster's workers. */
    private static List<String> applications(Path state) throws IOException {
        List<String> apps = new ArrayList<>();
        for (int worker = 1; worker <= 2; worker++) {
            Path work = state.resolve("work").resolve("worker-" + worker);
            if (Files.isDirectory(work)) {
                try (Stream<Path> dirs = Files.list(work)) {
                    dirs.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("app-")
                            && !apps.contains(n)).forEach(apps::add);
                }
            }
        }
        return apps;
    }

    /** A number of the last line of {@code text} starting with {@code prefix}, matched by {@code pattern}. */
    private static double number(String text, String prefix, Pattern pattern, int group) {
        Matcher m = pattern.matcher(ChildProcesses.lastLine(text, prefix));
        assertTrue(m.matches(), "no line matching " + pattern + " in:\n" + text);
        return Double.parseDouble(m.group(group));
    }

    @Test
    void anExecutorKilledMidPretrainingIsReplacedAndTheRunEndsAsTheUninterruptedOne(@TempDir Path tmp)
            throws Exception {
        assertTrue(Files.isRegularFile(ChildProcesses.ROOT.resolve("spark-jobs/target/sparkvit.jar")),
                "run make build first (make reliability does): the launcher submits spark-jobs/target/sparkvit.jar");
        Path raw = tmp.resolve("raw");
        new SyntheticImageFolder(32, 40, 4).writeTo(raw);
        String dataset = tmp.resolve("ds").toString();
        new IngestJob(IngestSettings.defaults(raw.toString(), dataset).withStoredSize(32))
                .execute(SharedSpark.session());
        String sparkHome = StandaloneCluster.sparkHome(tmp.resolve("logs"));

        // 4 epochs of 11 iterations, checkpoints every 3 (some mid-epoch), probe at the end
        String[] sets = {"data.dataset=" + dataset, "training.epochs=4", "training.warmup_epochs=1",
            "training.batch_size=32", "training.checkpoint.every_iterations=3", "training.checkpoint.keep=30",
            "training.probe_every_epochs=0"};
        long seed = System.nanoTime();
        Random random = new Random(seed);
        try (StandaloneCluster cluster = new StandaloneCluster(tmp.resolve("cluster"), sparkHome)) {
            cluster.up();
            Path reference = tmp.resolve("reference");
            ChildProcesses.Child whole = pretrain(cluster, "reference", reference, sets);
            assertEquals(0, whole.exit(15), whole.output());

            Path killed = tmp.resolve("killed");
            List<String> before = applications(cluster.state());
            ChildProcesses.Child run = pretrain(cluster, "killed", killed, sets);
            Path after = killed.resolve("checkpoints").resolve("iter-000000015");
            long deadline = System.nanoTime() + 10L * 60 * 1_000_000_000;
            while (!Files.isDirectory(after) && run.process().isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertTrue(Files.isDirectory(after), "the run reached iteration 15: " + run.output());
            long delay = random.nextInt(1500);
            Thread.sleep(delay);
            List<String> apps = applications(cluster.state());
            apps.removeAll(before);
            assertEquals(1, apps.size(), "one new application: " + apps);
            List<Long> executors = StandaloneCluster.executorPids("--app-id " + apps.get(0));
            assertEquals(2, executors.size(), "two executors of " + apps.get(0));
            long victim = executors.get(random.nextInt(2));
            assertTrue(ProcessHandle.of(victim).orElseThrow().destroyForcibly(), "SIGKILL sent");
            String killedAt;
            try (Stream<Path> written = Files.list(killed.resolve("checkpoints"))) {
                killedAt = written.map(p -> p.getFileName().toString()).sorted().reduce((a, b) -> b).orElseThrow();
            }
            System.out.printf("executor kill: seed %d, SIGKILL to executor pid %d of %s %d ms after iter-15 appeared "
                    + "(newest checkpoint then %s)%n", seed, victim, apps.get(0), delay, killedAt);
            assertEquals(0, run.exit(15), run.output());

            String out = run.stdout();
            Matcher restart = RESTART.matcher(ChildProcesses.lastLine(out, "pretrain: restart "));
            assertTrue(restart.matches(), "one restart line:\n" + out);
            assertEquals(1, out.lines().filter(l -> l.startsWith("pretrain: restart ")).count(), out);
            assertTrue(Integer.parseInt(restart.group(3)) >= 15, "continued from iter-15 or newer: " + restart.group());
            assertTrue(Files.isDirectory(Path.of(restart.group(2))), restart.group(2));
            System.out.println("executor kill: " + restart.group());

            Path other = tmp.resolve("seed7");
            ChildProcesses.Child noise = pretrain(cluster, "seed7", other, append(sets, "training.seed=7"));
            assertEquals(0, noise.exit(15), noise.output());

            String ref = whole.stdout();
            String seven = noise.stdout();
            double lossRef = number(ref, "epoch 4/4 ", LOSS, 1);
            double lossKilled = number(out, "epoch 4/4 ", LOSS, 1);
            double lossSeven = number(seven, "epoch 4/4 ", LOSS, 1);
            double probeRef = number(ref, "pretrained (EMA)", PROBE, 1);
            double probeKilled = number(out, "pretrained (EMA)", PROBE, 1);
            double probeSeven = number(seven, "pretrained (EMA)", PROBE, 1);
            String weights = "pretrained-ema.safetensors";
            boolean identical = ChildProcesses.sha256(reference.resolve(weights)).equals(ChildProcesses.sha256(
                    killed.resolve(weights)));
            System.out.printf("executor kill: last epoch's loss %.4f (uninterrupted %.4f, seed 7 %.4f); probe pooled %.3f "
                    + "(uninterrupted %.3f, seed 7 %.3f); EMA weights %s%n", lossKilled, lossRef, lossSeven,
                    probeKilled, probeRef, probeSeven, identical ? "bit-identical" : "DIFFERENT");
            // within noise: no further from the uninterrupted run than another seed is
            assertTrue(Math.abs(lossKilled - lossRef) <= Math.abs(lossSeven - lossRef), "loss within noise");
            assertTrue(Math.abs(probeKilled - probeRef) <= Math.abs(probeSeven - probeRef), "probe within noise");
            // and in fact exact: the restart rebuilds the run as --resume does, and cluster runs are deterministic
            assertTrue(identical, "EMA weights bit-identical to the uninterrupted cluster run");
            assertEquals(lossRef, lossKilled);
            assertEquals(probeRef, probeKilled);
            assertFalse(out.contains("no restart left"), out);
        }
    }

    private static String[] append(String[] sets, String more) {
        String[] all = java.util.Arrays.copyOf(sets, sets.length + 1);
        all[sets.length] = more;
        return all;
    }
}
