package dev.sparkvit.engine;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import org.apache.spark.BarrierTaskContext;

/**
 * Every task of a barrier stage sends an array of numbers and receives all tasks' arrays in task (partition) order,
 * through Spark's public {@code BarrierTaskContext.allGather(String)} (Spark 3.0+): one call is also a barrier, so
 * no task reads before every task has sent. Each message is {@code "<partition>:"} followed by the Base64 of the
 * array's little-endian bytes (4/3 of the raw size); the partition prefix puts the answers in task order whatever
 * order the coordinator replies in.
 *
 * <p>Size: every message goes to the driver's barrier coordinator, and every task receives all of them. For a
 * SimCLR batch of B images with D-dimensional float projections that is 2B x D x 4 bytes raw (B = 4,096, D = 128:
 * 4 MB, 5.6 MB as Base64) into every task, and T x 5.6 MB out of the driver per iteration: at 1 Gbit/s about 45 ms
 * per task's link and 180 ms of the driver's for T = 4. That is small next to the forward and backward of 8,192
 * views (tens of seconds for a ViT on CPUs), and grows linearly with the executors: dozens of executors at batch
 * 4,096 would want a tree or the BlockManager instead. The answer to one all-gather is a single RPC message, which
 * Spark's transport frames cap at 2 GB (B of about 1 M at D = 128).
 * Must be called from inside a barrier task ({@code rdd.barrier().mapPartitions(...)}), by every task the same number
 * of times.
 */
public final class BarrierAllGather {
    private final BarrierTaskContext context;

    public BarrierAllGather(BarrierTaskContext context) {
        this.context = context;
    }

    /** The barrier task running on this thread; fails outside a barrier stage. */
    public static BarrierAllGather current() {
        return new BarrierAllGather(BarrierTaskContext.get());
    }

    /** This task's index, its partition id. */
    public int task() {
        return context.partitionId();
    }

    /** Every task's {@code mine}, indexed by task. */
    public float[][] floats(float[] mine) {
        String[] messages = gather(encode(mine));
        float[][] all = new float[messages.length][];
        for (int t = 0; t < messages.length; t++) {
            all[t] = decodeFloats(messages[t]);
        }
        return all;
    }

    /** Every task's {@code mine}, indexed by task. */
    public double[][] doubles(double[] mine) {
        String[] messages = gather(encode(mine));
        double[][] all = new double[messages.length][];
        for (int t = 0; t < messages.length; t++) {
            all[t] = decodeDoubles(messages[t]);
        }
        return all;
    }

    /** The Base64 payloads of every task's message, put at their task's index. */
    private String[] gather(String payload) {
        String[] received = context.allGather(task() + ":" + payload);
        String[] byTask = new String[received.length];
        for (String message : received) {
            int colon = message.indexOf(':');
            int task = Integer.parseInt(message.substring(0, colon));
            if (task < 0 || task >= byTask.length || byTask[task] != null) {
                throw new IllegalStateException("all-gather answer from task " + task + " of " + byTask.length
                        + " tasks came twice or does not belong to this stage");
            }
            byTask[task] = message.substring(colon + 1);
        }
        return byTask;
    }

    static String encode(float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(Math.multiplyExact(values.length, Float.BYTES))
                .order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        return Base64.getEncoder().encodeToString(bytes.array());
    }

    static String encode(double[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(Math.multiplyExact(values.length, Double.BYTES))
                .order(ByteOrder.LITTLE_ENDIAN);
        bytes.asDoubleBuffer().put(values);
        return Base64.getEncoder().encodeToString(bytes.array());
    }

    static float[] decodeFloats(String payload) {
        ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(payload)).order(ByteOrder.LITTLE_ENDIAN);
        float[] values = new float[bytes.remaining() / Float.BYTES];
        bytes.asFloatBuffer().get(values);
        return values;
    }

    static double[] decodeDoubles(String payload) {
        ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(payload)).order(ByteOrder.LITTLE_ENDIAN);
        double[] values = new double[bytes.remaining() / Double.BYTES];
        bytes.asDoubleBuffer().get(values);
        return values;
    }
}
