package dev.sparkvit.jobs.retrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.testing.Reliability;
import dev.sparkvit.testing.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two real {@code sparkvit retrain} processes (two JVMs, each with its own local Spark) started at the same moment
 * on the same registry: exactly one runs; the other exits 4 at once, while the first is still running, having
 * changed nothing; the registry afterwards is consistent. Then the same race again on unchanged data: one exits 3
 * (nothing to do), the other 4, and not one byte of the registry changes. Slow (two trainings' worth of JVM and
 * Spark start-up, one fine-tuning): {@code make reliability}.
 */
@Reliability
class RetrainConcurrencyTest {

    /** One retrain process, its output files, and whether the other was alive when it exited. */
    private record Run(Process process, Path out, Path err) {
        String stdout() throws Exception {
            return Files.readString(out);
        }

        String stderr() throws Exception {
            return Files.readString(err);
        }
    }

    private static Run start(Path tmp, Path config, String name) throws Exception {
        // the JVM options every sparkvit JVM needs (submit/jvm.properties, passed to this JVM by Surefire)
        List<String> command = ChildJvm.command("2g", "dev.sparkvit.cli.Main",
                List.of("retrain", "--config", config.toString()));
        Path out = tmp.resolve(name + ".out");
        Path err = tmp.resolve(name + ".err");
        Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                .start();
        return new Run(process, out, err);
    }

    /**
     * Starts two runs together and waits for both; returns them in the order they exited, and checks that the first
     * to exit did so while the other was still running.
     */
    private static List<Run> race(Path tmp, Path config, String round) throws Exception {
        List<Run> running = new ArrayList<>(List.of(start(tmp, config, round + "-a"), start(tmp, config,
                round + "-b")));
        List<Run> exited = new ArrayList<>();
        long start = System.nanoTime();
        List<String> times = new ArrayList<>();
        long deadline = System.nanoTime() + 15L * 60 * 1_000_000_000;
        while (!running.isEmpty() && System.nanoTime() < deadline) {
            for (Run run : List.copyOf(running)) {
                if (!run.process().isAlive()) {
                    running.remove(run);
                    exited.add(run);
                    times.add(String.format("exit %d after %.1f s", run.process().exitValue(),
                            (System.nanoTime() - start) / 1e9));
                    if (exited.size() == 1) {
                        assertEquals(1, running.size());
                        assertTrue(running.get(0).process().isAlive(), "the first to exit did so while the other "
                                + "was still running: " + run.stdout() + run.stderr());
                    }
                }
            }
            Thread.sleep(50);
        }
        for (Run run : running) {
            run.process().destroyForcibly();
        }
        assertTrue(running.isEmpty(), "both runs ended within 15 minutes");
        System.out.println("retrain race, " + round + " round: " + String.join(", ", times));
        return exited;
    }

    private static void assertConsistent(ModelRegistry registry, List<String> versions) throws Exception {
        assertEquals(versions, registry.versions());
        assertEquals(versions.get(versions.size() - 1), registry.production().orElseThrow());
        List<String> warnings = new ArrayList<>();
        registry.check(warnings::add); // the production version's files read in full, the others checked
        assertEquals(List.of(), warnings);
        try (Stream<Path> root = Files.list(registry.root()); Stream<Path> dirs = Files.list(registry.root()
                .resolve("versions"))) {
            assertEquals(List.of("production", "versions"), root.map(p -> p.getFileName().toString()).sorted()
                    .toList(), "no lock and no temporary file left");
            assertEquals(versions, dirs.map(p -> p.getFileName().toString()).sorted().toList(),
                    "no temporary version folder left");
        }
    }

    @Test
    void twoRetrainProcessesAtOnceOneRunsTheOtherExitsFourAndTheRegistryStaysConsistent(@TempDir Path tmp)
            throws Exception {
        new SyntheticImageFolder(16, 8, 4).writeTo(tmp.resolve("incoming"));
        Files.writeString(tmp.resolve("finetune.yaml"), "model:\n  preset: vit_nano_patch4_32\n  drop_path_rate: 0.0\n"
                + "  head_init: random\nevaluation:\n  tta_views: [identity, flip]\n");
        Path config = tmp.resolve("retrain.yaml");
        Files.writeString(config, String.join("\n", "input: " + tmp.resolve("incoming"),
                "dataset: " + tmp.resolve("dataset"), "stored_size: 16", "registry: " + tmp.resolve("registry"),
                "work_dir: " + tmp.resolve("work"), "finetune_config: " + tmp.resolve("finetune.yaml"),
                "finetune_set: [data.img_size=16, training.epochs=2, training.batch_size=16, "
                        + "training.warmup_epochs=1]",
                "gate:", "  variant: ema+tta", ""));
        ModelRegistry registry = new ModelRegistry(tmp.resolve("registry"));

        List<Run> first = race(tmp, config, "first");
        Run loser = first.get(0);
        Run winner = first.get(1);
        assertEquals(4, loser.process().exitValue(), loser.stdout() + loser.stderr());
        assertEquals(0, winner.process().exitValue(), winner.stdout() + winner.stderr());
        assertTrue(loser.stderr().startsWith("sparkvit: registry " + registry.root() + " is locked by another "
                + "retrain run (pid " + winner.process().pid() + " on "), loser.stderr());
        assertTrue(!loser.stdout().contains("retrain: ingest"), "the loser ingested nothing: " + loser.stdout());
        assertTrue(winner.stdout().contains("retrain: v0001 promoted to production"), winner.stdout());
        assertConsistent(registry, List.of("v0001"));

        Map<String, String> before = RegistryFixture.snapshot(registry.root());
        List<Run> second = race(tmp, config, "second");
        assertEquals(4, second.get(0).process().exitValue(), second.get(0).stderr());
        assertEquals(3, second.get(1).process().exitValue(), second.get(1).stdout() + second.get(1).stderr());
        assertTrue(second.get(1).stdout().contains("nothing to do: data, config and code match version v0001"),
                second.get(1).stdout());
        assertEquals(before, RegistryFixture.snapshot(registry.root()), "not one byte of the registry changed");
        assertConsistent(registry, List.of("v0001"));
    }
}
