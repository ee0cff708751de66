package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
 * {@link BarrierAllReduce} in real barrier stages ({@link BarrierAllReduceCheck}): 20 rounds per stage, the average
 * against the driver's in double, bit-identical results and norms across tasks, no block left; a failed task fails
 * the stage and leaves no block. local[2] on the shared session, local[4] in a child JVM (a JVM holds one
 * SparkContext).
 */
@ExtendWith(SharedSpark.class)
class BarrierAllReduceTest {
    @Test
    void twoTasksAverageExactlyAndIdenticallyForTwentyRoundsLeavingNoBlock() {
        // P = 1 (an empty chunk), P = 7 (not divisible by T), P ~ 1e6 (full check of its first three rounds)
        for (int[] spec : new int[][] {{1, 20, 20}, {7, 20, 20}, {1_000_003, 20, 3}}) {
            String line = BarrierAllReduceCheck.run(SharedSpark.context(), 2, spec[0], spec[1], spec[2], false,
                    spec[0]).line();
            assertTrue(line.contains("20 rounds"), line);
        }
    }

    @Test
    void oneTaskReturnsItsOwnGradientBitForBit() {
        long[] hashes = BarrierAllReduceCheck.run(SharedSpark.context(), 1, 9, 3, 3, false, 5).hashes();
        for (int r = 0; r < 3; r++) {
            assertEquals(BarrierAllReduceCheck.hash(BarrierAllReduceCheck.gradient(5, 0, r, 9)), hashes[r]);
        }
    }

    @Test
    void readsThroughSparksBlockTransferServiceGiveTheSameBits() {
        // every block read as from another executor (BlockManagerMaster for the location, Netty transfer): the code
        // path of a cluster, on loopback
        long[] local = BarrierAllReduceCheck.run(SharedSpark.context(), 2, 1001, 5, 5, false, 11).hashes();
        long[] remote = BarrierAllReduceCheck.run(SharedSpark.context(), 2, 1001, 5, 5, true, 11).hashes();
        assertArrayEquals(local, remote);
    }

    @Test
    void theSameInputsGiveTheSameBitsInAnotherStage() {
        long[] first = BarrierAllReduceCheck.run(SharedSpark.context(), 2, 4099, 20, 0, false, 3).hashes();
        long[] second = BarrierAllReduceCheck.run(SharedSpark.context(), 2, 4099, 20, 0, false, 3).hashes();
        assertArrayEquals(first, second);
        long[] otherInputs = BarrierAllReduceCheck.run(SharedSpark.context(), 2, 4099, 20, 0, false, 4).hashes();
        assertTrue(first[0] != otherInputs[0], "the hash tells results apart");
    }

    @Test
    void aFailedTaskFailsTheStageAndEveryBlockIsRemoved() {
        String line = BarrierAllReduceCheck.failedTask(SharedSpark.context());
        assertTrue(line.contains("with 3 blocks stored"), line);
        // and the next stage runs normally
        BarrierAllReduceCheck.run(SharedSpark.context(), 2, 7, 2, 2, false, 9);
    }

    /**
     * A task that finds a peer's block gone waits for the stage to fail for the peer's reason: task 1 reads a block
     * while task 0, still working, has not put it, then task 0 throws (a bug). The stage fails with task 0's
     * exception, not with task 1's "is on no executor", which the training jobs take for lost executor state and
     * restart from, into the same bug.
     */
    @Test
    void aPeersFailureFailsTheStageNotTheBlockItNeverPut() {
        String name = "never_put_" + java.util.UUID.randomUUID();
        Exception failure = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> BarrierStage.collect(
                SharedSpark.context().parallelize(java.util.List.of(0, 1), 2), partition -> {
                    if (org.apache.spark.BarrierTaskContext.get().partitionId() == 0) {
                        Thread.sleep(1000);
                        throw new IllegalStateException("injected bug in task 0");
                    }
                    new FloatBlocks(false).read(name, new float[1], 0, 1);
                    return 0;
                }, Integer.class));
        String message = String.valueOf(failure.getMessage());
        assertTrue(message.contains("injected bug in task 0") && !message.contains("is on no executor"), message);
    }

    @Test
    void threeAndFourTasksOnLocal4(@TempDir Path tmp) throws Exception {
        List<String> specs = List.of("3:1:20:20", "3:10:20:20", "4:1000003:20:2", "4:7:20:20:remote", "fail");
        List<String> args = new ArrayList<>(List.of("4"));
        args.addAll(specs);
        List<String> command = ChildJvm.command("1g", BarrierAllReduceCheck.class.getName(), args);
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
        assertEquals(specs.size(), checked.size(), output);
        assertTrue(checked.get(2).contains("T = 4, P = 1000003: 20 rounds"), output);
        assertTrue(checked.get(4).contains("with 3 blocks stored"), output);
    }
}
