package dev.sparkvit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.table.TwoSnapshots;
import dev.sparkvit.model.io.VitWeights;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitPresets;
import dev.sparkvit.testing.ChildJvm;
import dev.sparkvit.testing.SharedSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --snapshot ID} end to end, each command in a JVM of its own (it starts and stops its own Spark session): the
 * linear probe of an older snapshot fits and scores that snapshot's images (a later ingest added more); pretraining
 * given an id the dataset's table lacks exits 2 with one {@code sparkvit:} line naming the dataset and the id.
 */
@ExtendWith(SharedSpark.class)
class SnapshotOptionTest {

    private record Exit(int code, String stdout, String stderr) {
    }

    private static Exit sparkvit(Path tmp, String name, String... args) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(ChildJvm.command("1g", Main.class.getName(), List.of(args)))
                .redirectOutput(tmp.resolve(name + ".out").toFile())
                .redirectError(tmp.resolve(name + ".err").toFile());
        builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        Process process = builder.start();
        if (!process.waitFor(10, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("sparkvit " + args[0] + " did not end in 10 minutes");
        }
        return new Exit(process.exitValue(), Files.readString(tmp.resolve(name + ".out")),
                Files.readString(tmp.resolve(name + ".err")));
    }

    @Test
    void theProbeReadsTheOlderSnapshotAndAnUnknownIdIsOneLine(@TempDir Path tmp) throws Exception {
        TwoSnapshots snapshots = TwoSnapshots.ingest(tmp);
        String dataset = snapshots.dataset();
        long first = snapshots.first();
        long second = snapshots.second();
        assertNotEquals(first, second);
        Path weights = tmp.resolve("encoder.safetensors");
        VitWeights.save(VisionTransformer.simclr(VitPresets.get("vit_nano_patch4_32").withImgSize(16), 32, 7),
                weights, Map.of("preset", "vit_nano_patch4_32"));

        Exit probe = sparkvit(tmp, "probe", "linear-probe", "--dataset", dataset, "--weights", weights.toString(),
                "--snapshot", String.valueOf(first));
        assertEquals(ExitCodes.OK, probe.code(), probe.stdout() + probe.stderr());
        assertTrue(probe.stdout().contains("on dataset " + dataset + " at snapshot " + first), probe.stdout());
        String images = "(" + snapshots.count(first, "train") + " train, " + snapshots.count(first, "val")
                + " val images)";
        assertTrue(probe.stdout().contains(images), images + " in " + probe.stdout());
        assertTrue(snapshots.count(second, "train") > snapshots.count(first, "train"), "the current one has more");

        List<String> pretrain = new ArrayList<>(List.of("pretrain", "--config",
                Path.of("..", "conf", "pretrain.yaml").toString(), "--set", "data.dataset=" + dataset, "--set",
                "output_dir=" + tmp.resolve("out"), "--set", "training.epochs=1", "--set", "training.warmup_epochs=0",
                "--snapshot", "12345"));
        Exit unknown = sparkvit(tmp, "unknown", pretrain.toArray(String[]::new));
        List<String> ours = unknown.stderr().lines().filter(line -> line.startsWith("sparkvit: ")).toList();
        assertEquals(ExitCodes.BAD_INPUT, unknown.code(), unknown.stdout() + unknown.stderr());
        assertEquals(List.of("sparkvit: dataset " + dataset + " has no snapshot 12345 (never committed, or expired); "
                + "its current snapshot is " + second), ours, unknown.stderr());
    }
}
