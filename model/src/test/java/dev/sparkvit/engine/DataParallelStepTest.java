package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
 * {@link DataParallelStep} in real barrier stages equals one replica on the whole batch, for cross-entropy and
 * NT-Xent, with SimCLR's head's SyncBatchNorm and with drop-path ({@link DataParallelStepCheck}): local[2] on the shared session (T = 1 and 2, uneven), local[4] in a child
 * JVM (T = 3 and 4, uneven: global batch 10 over 1, 2, 3, 4 images), since a barrier stage needs a free slot per task
 * and a JVM holds one SparkContext.
 */
@ExtendWith(SharedSpark.class)
class DataParallelStepTest {
    @Test
    void crossEntropyAndNtXentOnLocal2() {
        String[] lines = {
            DataParallelStepCheck.run(SharedSpark.context(), DataParallelStepCheck.Kind.CROSS_ENTROPY,
                    new int[] {3, 5}, 11),
            DataParallelStepCheck.run(SharedSpark.context(), DataParallelStepCheck.Kind.CROSS_ENTROPY,
                    new int[] {6}, 12),
            DataParallelStepCheck.run(SharedSpark.context(), DataParallelStepCheck.Kind.NT_XENT,
                    new int[] {5, 3}, 13),
        };
        for (String line : lines) {
            System.out.println("DataParallelStepTest: " + line);
        }
        assertTrue(lines[0].contains("2 barrier tasks"), lines[0]);
        assertTrue(lines[2].contains("2 barrier tasks"), lines[2]);
    }

    /**
     * SimCLR's projection head with its BatchNorm synchronised (SyncBatchNorm in the tasks, plain BatchNorm in the one
     * replica), and drop-path (rate 0.5) drawn from the tasks' keys: both equal one replica on the whole batch, with
     * uneven slices.
     */
    @Test
    void syncBatchNormAndDropPathOnLocal2() {
        String[] lines = {
            DataParallelStepCheck.run(SharedSpark.context(), DataParallelStepCheck.Kind.NT_XENT_SYNC_BATCHNORM,
                    new int[] {5, 3}, 16),
            DataParallelStepCheck.run(SharedSpark.context(), DataParallelStepCheck.Kind.NT_XENT_DROP_PATH,
                    new int[] {3, 5}, 17),
        };
        for (String line : lines) {
            System.out.println("DataParallelStepTest: " + line);
            assertTrue(line.contains("2 barrier tasks"), line);
        }
    }

    /**
     * The check sees the ways a data-parallel step goes inexact: averaging the slices' mean gradients with uneven
     * slices, a plain BatchNorm in the projection head (its statistics are the slice's: why SyncBatchNorm exists),
     * and drop-path masks drawn from another key than the replica's (so the drop-path check above is not blind to
     * the masks). All still keep the tasks' weights bit-identical.
     */
    @Test
    void theCheckFailsOnSliceMeansAndOnBatchNorm() {
        AssertionError sliceMeans = assertThrows(AssertionError.class, () -> DataParallelStepCheck.run(
                SharedSpark.context(), DataParallelStepCheck.Kind.CROSS_ENTROPY_SLICE_MEANS, new int[] {2, 6}, 14));
        AssertionError batchNorm = assertThrows(AssertionError.class, () -> DataParallelStepCheck.run(
                SharedSpark.context(), DataParallelStepCheck.Kind.NT_XENT_BATCHNORM, new int[] {4, 4}, 15));
        AssertionError otherDraws = assertThrows(AssertionError.class, () -> DataParallelStepCheck.run(
                SharedSpark.context(), DataParallelStepCheck.Kind.NT_XENT_DROP_PATH_OTHER_SEED, new int[] {3, 5}, 17));
        System.out.println("DataParallelStepTest: " + sliceMeans.getMessage());
        System.out.println("DataParallelStepTest: " + batchNorm.getMessage());
        System.out.println("DataParallelStepTest: " + otherDraws.getMessage());
        assertTrue(sliceMeans.getMessage().contains("first gradient off"), sliceMeans.getMessage());
        assertTrue(batchNorm.getMessage().contains("first gradient off"), batchNorm.getMessage());
        assertTrue(otherDraws.getMessage().contains("first gradient off"), otherDraws.getMessage());
    }

    @Test
    void threeAndFourUnevenTasksOnLocal4(@TempDir Path tmp) throws Exception {
        List<String> checks = List.of("ce:1,2,3,4", "ntxent:2,3,1,2", "ce:4,1,3", "syncbn:1,3,2,2", "droppath:2,1,3,2",
                "syncbn:3,2,3");
        List<String> args = new ArrayList<>(List.of("4"));
        args.addAll(checks);
        List<String> command = ChildJvm.command("1g", DataParallelStepCheck.class.getName(), args);
        Path out = tmp.resolve("out");
        Path err = tmp.resolve("err");
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        Process process = builder.start();
        boolean exited = process.waitFor(4, TimeUnit.MINUTES);
        if (!exited) {
            process.destroyForcibly().waitFor();
        }
        String output = Files.readString(out);
        assertTrue(exited, "still running after 4 minutes: " + output + Files.readString(err));
        assertEquals(0, process.exitValue(), output + Files.readString(err));
        List<String> checked = output.lines().filter(l -> l.startsWith("OK ")).toList();
        checked.forEach(l -> System.out.println("DataParallelStepTest: " + l));
        assertEquals(checks.size(), checked.size(), output);
        assertTrue(checked.get(0).contains("4 barrier tasks"), output);
        assertTrue(checked.get(1).contains("4 barrier tasks"), output);
        assertTrue(checked.get(2).contains("3 barrier tasks"), output);
        assertTrue(checked.get(3).contains("4 barrier tasks"), output);
        assertTrue(checked.get(4).contains("4 barrier tasks"), output);
        assertTrue(checked.get(5).contains("3 barrier tasks"), output);
    }
}
