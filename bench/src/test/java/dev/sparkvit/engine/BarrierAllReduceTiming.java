package dev.sparkvit.engine;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * A measurement, not a test: {@code cores length rounds [remote]} runs {@code rounds} exchanges of {@code length}
 * floats in one barrier stage on {@code local[cores]} (one task per core; or {@code spark://host:port/executors},
 * one-core executors, the jars in {@code -Dsparkvit.check.jars}) and prints, per task, the median time of a round
 * after the first two (each round starts with the tasks aligned by a barrier) and each phase's mean
 * (BarrierAllReduce.PHASES), and the median of an empty
 * {@code barrier()} (the fixed cost of one barrier call, woken).
 */
final class BarrierAllReduceTiming {
    private BarrierAllReduceTiming() {
    }

    record Times(int task, long[] roundNanos, long[] phaseNanos, long[] barrierNanos) implements Serializable {
    }

    public static void main(String[] args) {
        // cores of local mode, or a master URL and its number of one-core executors: "spark://host:port/2"
        boolean local = args[0].matches("\\d+");
        String master = local ? "local[" + args[0] + "]" : args[0].substring(0, args[0].lastIndexOf('/'));
        int cores = Integer.parseInt(args[0].substring(args[0].lastIndexOf('/') + 1));
        int length = Integer.parseInt(args[1]);
        int rounds = Integer.parseInt(args[2]);
        boolean remote = args.length > 3 && args[3].equals("remote");
        SparkConf conf = new SparkConf().setMaster(master).setAppName("barrier-allreduce-timing")
                .set("spark.ui.enabled", "false").set("spark.ui.showConsoleProgress", "false")
                .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1");
        if (System.getProperty("sparkvit.check.jars") != null) {
            conf.set("spark.jars", System.getProperty("sparkvit.check.jars"));
        }
        SparkSession session = SparkSession.builder().config(conf).getOrCreate();
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(session.sparkContext());
        List<Integer> indexes = IntStream.range(0, cores).boxed().toList();
        List<Times> all = BarrierStage.collect(sc.parallelize(indexes, cores), partition -> {
            BarrierTaskContext context = BarrierTaskContext.get();
            BarrierAllReduce exchange = new BarrierAllReduce(context, "timing", remote);
            long[] barrierNanos = new long[rounds];
            for (int r = 0; r < rounds; r++) {
                long start = System.nanoTime();
                BarrierWaker.during(() -> {
                    context.barrier();
                    return null;
                });
                barrierNanos[r] = System.nanoTime() - start;
            }
            long[] roundNanos = new long[rounds];
            long[] warm = null;
            float[][] sources = {BarrierAllReduceCheck.gradient(7, exchange.task(), 0, length),
                BarrierAllReduceCheck.gradient(7, exchange.task(), 1, length)};
            float[] g = new float[length];
            for (int r = 0; r < rounds; r++) {
                System.arraycopy(sources[r % 2], 0, g, 0, length);
                if (r == 2) {
                    warm = exchange.phaseNanos.clone();
                }
                // the tasks start each round together: the time is the exchange's, not the skew of their work
                BarrierWaker.during(() -> {
                    context.barrier();
                    return null;
                });
                long start = System.nanoTime();
                exchange.averageInPlace(g);
                roundNanos[r] = System.nanoTime() - start;
            }
            exchange.close();
            long[] phases = exchange.phaseNanos.clone();
            for (int p = 0; p < phases.length; p++) {
                phases[p] -= warm[p];
            }
            return new Times(exchange.task(), roundNanos, phases, barrierNanos);
        }, Times.class);
        for (Times times : all) {
            long[] measured = Arrays.copyOfRange(times.roundNanos(), 2, rounds);
            long[] barriers = Arrays.copyOfRange(times.barrierNanos(), 2, rounds);
            StringBuilder phases = new StringBuilder();
            for (int p = 0; p < BarrierAllReduce.PHASES.length; p++) {
                phases.append(String.format(Locale.ROOT, "%s %.1f ms, ", BarrierAllReduce.PHASES[p],
                        times.phaseNanos()[p] / 1e6 / (rounds - 2)));
            }
            System.out.printf(Locale.ROOT, "task %d: P = %d, %d rounds after 2: median %.1f ms (min %.1f, max %.1f);"
                    + " mean per round: %sempty barrier() median %.2f ms%n", times.task(), length, rounds - 2,
                    median(measured) / 1e6, Arrays.stream(measured).min().getAsLong() / 1e6,
                    Arrays.stream(measured).max().getAsLong() / 1e6, phases, median(barriers) / 1e6);
        }
        session.stop();
        System.exit(0);
    }

    private static double median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
    }
}
