package dev.sparkvit.model.losses;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.testing.ChildJvm;
import dev.sparkvit.testing.SharedSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link BarrierNtXent} in real barrier stages: every task's gradient after the two {@code allGather}s, collected by
 * the driver, is one replica's {@link NtXentLoss} gradient on the whole batch, and every task reports the same loss
 * ({@link BarrierNtXentCheck}). local[2] on the shared session; local[4] in a child JVM, since a barrier stage needs
 * a free slot per task and a JVM holds one SparkContext.
 */
@ExtendWith(SharedSpark.class)
class BarrierNtXentTest {
    @Test
    void oneAndTwoTasksOnLocal2() {
        for (int[] split : new int[][] {{12}, {5, 9}, {16, 16}}) {
            String line = BarrierNtXentCheck.run(SharedSpark.context(), split, 32, split.length * 7L + split[0]);
            assertTrue(line.contains(split.length + " barrier tasks"), line);
        }
    }

    @Test
    void replicaNegativesAreEachTasksOwnLossWeightedByItsImages() {
        double[] losses = BarrierNtXentCheck.runReplica(SharedSpark.context(), new int[] {5, 9}, 16, 3);
        // the control: the same random projections over the global batch meet 26 negatives per view, not 8 or 16,
        // and their loss is near ln 27 = 3.3 against ln 9 = 2.2 and ln 17 = 2.8
        assertTrue(losses[1] > losses[0] + 0.3, "replica " + losses[0] + ", global " + losses[1]);
    }

    @Test
    void threeAndFourUnevenTasksOnLocal4(@TempDir Path tmp) throws Exception {
        List<String> splits = List.of("6,2,9", "16,16,16,16", "5,11,0,7");
        List<String> args = new ArrayList<>(List.of("4"));
        args.addAll(splits);
        List<String> command = ChildJvm.command("1g", BarrierNtXentCheck.class.getName(), args);
        Path out = tmp.resolve("out");
        Path err = tmp.resolve("err");
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        Process process = builder.start();
        boolean exited = process.waitFor(3, TimeUnit.MINUTES);
        if (!exited) {
            process.destroyForcibly().waitFor();
        }
        String output = Files.readString(out);
        assertTrue(exited, "still running after 3 minutes: " + output + Files.readString(err));
        assertEquals(0, process.exitValue(), output + Files.readString(err));
        List<String> checked = output.lines().filter(l -> l.startsWith("OK ")).toList();
        assertEquals(splits.size(), checked.size(), output);
        assertTrue(checked.get(1).contains("4 barrier tasks"), output);
        assertTrue(checked.get(1).contains("negatives per anchor 126"), output);
    }
}
