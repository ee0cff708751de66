package dev.sparkvit.engine;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkEnv;

/**
 * Every task of a barrier stage sends an array of numbers and receives all tasks' arrays in task (partition) order,
 * through Spark's public {@code BarrierTaskContext.allGather(String)} (Spark 3.0+): one call is also a barrier, so
 * no task reads before every task has sent. Each message is {@code "<round>:<partition>:"} followed by the Base64
 * of the array's little-endian bytes (4/3 of the raw size); the prefix puts the answers in task order and proves
 * they all belong to this call.
 *
 * <p><b>Spark 3.1 defect, local mode</b>: the barrier coordinator answers every task with its own array of messages,
 * not a copy, and the next {@code allGather} or {@code barrier()} of any task overwrites that task's slot in it. On a
 * cluster the answer is serialized before it leaves the coordinator, so nothing is shared; in local mode the tasks
 * run in the driver's JVM and receive the array itself, and a task that is still reading its answer can see the
 * message another task already sent for the next call (observed: a task decoded its neighbour's next message). So a
 * task running inside the driver copies its answer and then calls {@code allGather} again with the very same message
 * (a fence that leaves every slot's content unchanged, and costs no copy in local mode): no task sends anything new
 * before every task has taken its copy. The round number in each message would catch any other mix-up.
 *
 * <p>Spark 3.1 checks for the answer once a second ({@link BarrierWaker}): each call runs woken, so that it costs
 * milliseconds instead of about a second.
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
    private final boolean insideDriver;
    private long round;

    /** One per task, for all of its all-gathers (every task of the stage must make the same calls). */
    public BarrierAllGather(BarrierTaskContext context) {
        this.context = context;
        // Spark's executor id of the driver (SparkContext.DRIVER_IDENTIFIER, private to Spark): local mode
        this.insideDriver = "driver".equals(SparkEnv.get().executorId());
    }

    /** The barrier task running on this thread; fails outside a barrier stage. Create one per task. */
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
        String prefix = round + ":";
        String message = prefix + task() + ":" + payload;
        String[] received = BarrierWaker.during(() -> context.allGather(message)).clone();
        if (insideDriver) {
            BarrierWaker.during(() -> context.allGather(message)); // the local-mode fence (class comment)
        }
        round++;
        String[] byTask = new String[received.length];
        for (String answer : received) {
            int colon = answer.indexOf(':', prefix.length());
            int task = answer.startsWith(prefix) ? Integer.parseInt(answer.substring(prefix.length(), colon)) : -1;
            if (task < 0 || task >= byTask.length || byTask[task] != null) {
                throw new IllegalStateException("all-gather " + prefix + " of task " + task() + ": an answer "
                        + "from another call or a repeated task (" + answer.substring(0, Math.min(answer.length(),
                                40)) + ")");
            }
            byTask[task] = answer.substring(colon + 1);
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
