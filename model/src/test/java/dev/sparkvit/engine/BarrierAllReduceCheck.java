package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * {@link BarrierAllReduce} in a real barrier stage, as a segment would run it: T tasks, {@code iterations} rounds in
 * one stage, each task a fresh random gradient per round (a seeded function of task and round, so the driver can
 * rebuild every input). The driver checks each task's result against the average it computes in double, the results
 * and norms of all tasks against each other bit for bit, the norm against its own, and that the BlockManager holds at
 * most two rounds of blocks during the stage and none after it. In-process on the shared local[2] session; by
 * {@link #main} in a child JVM for local[4].
 */
final class BarrierAllReduceCheck {
    private static final double U = Math.ulp(1.0) / 2; // 2^-53, double's unit roundoff

    private BarrierAllReduceCheck() {
    }

    /** What one task returns: the full results of the first rounds, and of every round its hash and norm. */
    record TaskResult(int task, float[][] full, long[] hashes, double[] norms, int[] blocksSeen)
            implements Serializable {
    }

    /** The checked run: a line for the report and every round's result hash (the same on every task). */
    record Outcome(String line, long[] hashes) {
    }

    /** Task {@code task}'s gradient in round {@code round}: Gaussians scaled by 1e-3 to 1e3, some exact zeros. */
    static float[] gradient(long seed, int task, int round, int length) {
        Random random = new Random(seed * 1_000_003L + task * 10_007L + round);
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = random.nextInt(16) == 0 ? 0f
                    : (float) (random.nextGaussian() * Math.pow(10, random.nextInt(7) - 3));
        }
        return values;
    }

    static long hash(float[] values) {
        long h = 0xcbf29ce484222325L;
        for (float v : values) {
            h = (h ^ Float.floatToRawIntBits(v)) * 0x100000001b3L;
        }
        return h;
    }

    /** Runs and checks one stage; throws AssertionError on any mismatch. */
    static Outcome run(JavaSparkContext sc, int tasks, int length, int iterations, int full, boolean remote,
            long seed) {
        List<Integer> indexes = IntStream.range(0, tasks).boxed().toList();
        List<TaskResult> results = BarrierStage.collect(sc.parallelize(indexes, tasks), partition -> {
            BarrierAllReduce exchange = new BarrierAllReduce(BarrierTaskContext.get(), "check", remote);
            int task = exchange.task();
            float[][] kept = new float[Math.min(full, iterations)][];
            long[] hashes = new long[iterations];
            double[] norms = new double[iterations];
            int[] blocksSeen = new int[iterations];
            for (int r = 0; r < iterations; r++) {
                float[] g = gradient(seed, task, r, length);
                norms[r] = exchange.averageInPlace(g);
                hashes[r] = hash(g);
                blocksSeen[r] = FloatBlocks.stored().size();
                if (r < kept.length) {
                    kept[r] = g;
                }
            }
            exchange.close();
            return new TaskResult(task, kept, hashes, norms, blocksSeen);
        }, TaskResult.class);

        String where = "T = " + tasks + ", P = " + length + (remote ? ", remote reads" : "");
        assertEquals(tasks, results.size(), where);
        int maxBlocks = 0;
        for (int t = 0; t < tasks; t++) {
            TaskResult result = results.get(t);
            assertEquals(t, result.task(), where + ": results in partition order");
            // bit for bit the same average and the same norm on every task, every round
            assertTrue(Arrays.equals(results.get(0).hashes(), result.hashes()), where + ", task " + t + ": hashes");
            for (int r = 0; r < iterations; r++) {
                assertEquals(Double.doubleToRawLongBits(results.get(0).norms()[r]),
                        Double.doubleToRawLongBits(result.norms()[r]), where + ", task " + t + ", round " + r);
                maxBlocks = Math.max(maxBlocks, result.blocksSeen()[r]);
            }
            for (int r = 0; r < result.full().length; r++) {
                assertEquals(result.hashes()[r], hash(result.full()[r]), where + ", task " + t + ", round " + r);
            }
        }
        // local mode: one BlockManager for all tasks; parts of two rounds and sums of two rounds at most
        assertTrue(maxBlocks <= 2 * tasks * tasks, where + ": " + maxBlocks + " blocks during a round");
        assertEquals(List.of(), FloatBlocks.stored(), where + ": blocks left in the driver's BlockManager");
        assertNoBlockOnAnyExecutor(sc, tasks, where);

        long exact = 0;
        long total = 0;
        double worst = 0;
        for (int r = 0; r < results.get(0).full().length; r++) {
            float[][] inputs = new float[tasks][];
            for (int t = 0; t < tasks; t++) {
                inputs[t] = gradient(seed, t, r, length);
            }
            float[] actual = results.get(0).full()[r];
            assertEquals(length, actual.length, where);
            double squares = 0;
            for (int i = 0; i < length; i++) {
                double sum = 0;
                double magnitudes = 0;
                for (int t = tasks - 1; t >= 0; t--) { // the other order than the exchange's
                    sum += inputs[t][i];
                    magnitudes += Math.abs(inputs[t][i]);
                }
                double expected = sum / tasks;
                // the float rounding of the result (half an ulp of the larger binade), plus both double sums'
                // rounding (each at most (T - 1) 2^-53 of the magnitudes, (T - 1) / T of that after dividing by T,
                // so 2 x 2^-53 x magnitudes covers both) and the two divisions' (2^-53 relative each)
                double tolerance = 0.5 * Math.max(Math.ulp(actual[i]), Math.ulp((float) expected))
                        + 2 * U * magnitudes + 2 * U * Math.abs(expected);
                double error = Math.abs(actual[i] - expected);
                if (error > tolerance) {
                    throw new AssertionError(where + ", round " + r + ", element " + i + ": " + actual[i]
                            + " against the double average " + expected + " (tolerance " + tolerance + ")");
                }
                worst = Math.max(worst, error / (0.5 * Math.ulp((float) expected)));
                exact += actual[i] == (float) expected ? 1 : 0;
                total++;
                squares += (double) actual[i] * actual[i];
            }
            // positive terms: each order of summation is within P 2^-53 relative of the exact sum of squares
            double norm = Math.sqrt(squares);
            double reported = results.get(0).norms()[r];
            assertEquals(norm, reported, (2 * length * U + 2 * U) * norm, where + ", round " + r + ": the norm");
        }
        String line = where + ": " + iterations + " rounds in one barrier stage, every task bit-identical; "
                + exact + " of " + total + " checked elements equal to the double average rounded to float"
                + String.format(", worst %.3f half-ulps", worst) + "; at most " + maxBlocks
                + " blocks during the stage, 0 after";
        return new Outcome(line, results.get(0).hashes());
    }

    /**
     * A stage of two tasks where task 1 throws at round 3, when task 0 has put its round-3 part and waits in
     * {@code barrier()} and both hold their round-2 sum: the job fails, and afterwards no block is left on any
     * executor (the next barrier stage can only start once both tasks have ended, their completion listeners run).
     */
    static String failedTask(JavaSparkContext sc) {
        // in local mode task 1 sees the 3 blocks of the one BlockManager; on a cluster only its own round-2 sum
        int expected = sc.isLocal() ? 3 : 1;
        Exception failure = assertThrows(Exception.class, () -> BarrierStage.collect(
                sc.parallelize(List.of(0, 1), 2), partition -> {
                    BarrierAllReduce exchange = new BarrierAllReduce(BarrierTaskContext.get(), "failing", false);
                    for (int r = 0; r < 20; r++) {
                        if (r == 3 && exchange.task() == 1) {
                            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                            while (FloatBlocks.stored().size() < expected && System.nanoTime() < until) {
                                Thread.sleep(10);
                            }
                            Thread.sleep(200); // task 0 is in barrier() by now, its round-3 part stored
                            throw new IllegalStateException("injected failure with " + FloatBlocks.stored().size()
                                    + " blocks stored");
                        }
                        exchange.averageInPlace(gradient(1, exchange.task(), r, 101));
                    }
                    exchange.close();
                    return 0;
                }, Integer.class));
        Matcher stored = Pattern.compile("injected failure with (\\d+) blocks stored").matcher(
                String.valueOf(failure.getMessage()));
        assertTrue(stored.find(), String.valueOf(failure.getMessage()));
        assertEquals(expected, Integer.parseInt(stored.group(1)), "blocks stored when task 1 failed");
        assertNoBlockOnAnyExecutor(sc, 2, "after the failed stage");
        return "a task failed at round 3 with " + expected + " blocks stored where it ran: the stage failed, "
                + "no block left on any executor";
    }

    /** A barrier stage of {@code tasks} tasks (one per slot) finds none of the exchange's blocks where it runs. */
    static void assertNoBlockOnAnyExecutor(JavaSparkContext sc, int tasks, String where) {
        List<String> left = BarrierStage.collect(sc.parallelize(IntStream.range(0, tasks).boxed().toList(), tasks),
                ignored -> String.join(",", FloatBlocks.stored()), String.class);
        assertEquals(String.join("", java.util.Collections.nCopies(tasks, "")), String.join("", left),
                where + ": blocks left in the executors' BlockManagers " + left);
    }

    /**
     * {@code cores spec...} or {@code masterUrl spec...}, each spec
     * {@code tasks:length:iterations:fullRounds[:remote]} or {@code fail} ({@link #failedTask}): runs each on one
     * session ({@code local[cores]} or the cluster) and prints one line {@code OK ...} per spec; exits non-zero on a
     * failed check.
     */
    public static void main(String[] args) {
        // a number of local cores, or a master URL (a standalone cluster; the jars in -Dsparkvit.check.jars)
        String master = args[0].matches("\\d+") ? "local[" + args[0] + "]" : args[0];
        SparkConf conf = new SparkConf().setMaster(master).setAppName("barrier-allreduce-check")
                .set("spark.ui.enabled", "false").set("spark.ui.showConsoleProgress", "false")
                .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1");
        if (System.getProperty("sparkvit.check.jars") != null) {
            conf.set("spark.jars", System.getProperty("sparkvit.check.jars"));
        }
        SparkSession session = SparkSession.builder().config(conf).getOrCreate();
        try {
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(session.sparkContext());
            for (int i = 1; i < args.length; i++) {
                if (args[i].equals("fail")) {
                    System.out.println("OK " + failedTask(sc));
                    continue;
                }
                String[] spec = args[i].split(":");
                Outcome outcome = run(sc, Integer.parseInt(spec[0]), Integer.parseInt(spec[1]),
                        Integer.parseInt(spec[2]), Integer.parseInt(spec[3]),
                        spec.length > 4 && spec[4].equals("remote"), 200 + i);
                System.out.println("OK " + outcome.line());
            }
        } catch (Throwable e) {
            e.printStackTrace();
            session.stop();
            System.exit(1);
        }
        session.stop();
        System.exit(0); // a non-daemon thread of Spark's would keep the JVM alive
    }
}
