package dev.sparkvit.testing;

import com.intel.analytics.bigdl.dllib.nn.Container;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatTypes;
import dev.sparkvit.engine.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.apache.spark.SparkEnv;
import org.apache.spark.storage.BlockId;
import org.apache.spark.storage.BlockManager;
import scala.collection.JavaConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * A failure of a real Spark training task, for tests of what a training job does when its Spark work fails: wraps a
 * model and, in the forward pass of a chosen training iteration (counted from the start of the DLlib training it runs
 * in, as {@link InjectedFault} counts), either
 * <ul>
 *   <li>{@link Kind#LOSE_PARAMETER_BLOCKS}: removes every block of DLlib's {@code AllReduceParameter} (each
 *       partition's master weight and gradient chunks and the weights and gradients in transit) from this JVM's
 *       BlockManager, which is what the death of the executor holding them does. The iteration's next Spark job then
 *       fails in DLlib ("AllReduceParameter is not initialized"): a real job failure, not a thrown test exception.
 *       In local mode the driver is the only executor, so its death cannot be staged; its lost blocks can;
 *   <li>{@link Kind#THROW}: throws from the task, as a bug or a bad input inside a task would.
 * </ul>
 * The fault fires at most {@code times} times in this JVM for a given {@code key} (local mode: the tasks run in the
 * test's JVM), so a restarted training (which counts its iterations from its own start) meets it again only while
 * that budget lasts.
 */
public final class SparkTaskFault extends Container<Activity, Activity, Float> {
    private static final long serialVersionUID = 1L;
    /** DLlib's AllReduceParameter blocks: TestBlockIds "test_" + id + weights/gradients/weightBytes + partition. */
    private static final Pattern PARAMETER_BLOCK = Pattern.compile(
            "test_\\d+(?:_\\d+)?(?:weights|gradients|weightBytes|gradientBytes)\\d+");
    private static final Map<String, AtomicInteger> FIRED = new ConcurrentHashMap<>();
    private static final Map<String, java.lang.ref.WeakReference<float[]>> LAST_BATCH = new ConcurrentHashMap<>();

    /** What goes wrong. */
    public enum Kind {
        /** The parameter blocks are lost, as with the executor holding them. */
        LOSE_PARAMETER_BLOCKS,
        /** The task throws an IllegalStateException. */
        THROW
    }

    private final Kind kind;
    private final long iteration;
    private final String key;
    private final int times;
    private final Tensor<Float> forwards = Tensors.zeros(1);

    @SuppressWarnings("unchecked")
    public SparkTaskFault(AbstractModule<?, ?, Float> model, Kind kind, long iteration, String key, int times) {
        super(tag(), tag(), FloatTypes.TAG, FloatTypes.NUMERIC);
        this.kind = kind;
        this.iteration = iteration;
        this.key = key;
        this.times = times;
        modules().$plus$eq((AbstractModule<Activity, Activity, Float>) (AbstractModule<?, ?, ?>) model);
    }

    /** How often the fault of {@code key} fired in this JVM. */
    public static int fired(String key) {
        AtomicInteger count = FIRED.get(key);
        return count == null ? 0 : count.get();
    }

    @SuppressWarnings("unchecked")
    private static ClassTag<Activity> tag() {
        return (ClassTag<Activity>) (ClassTag<?>) ClassTag$.MODULE$.apply(Activity.class);
    }

    private AbstractModule<Activity, Activity, Float> model() {
        return modules().apply(0);
    }

    @Override
    public Activity updateOutput(Activity input) {
        if (isTraining()) {
            long t = (long) (float) forwards.valueAt(1);
            forwards.setValue(1, (float) (t + 1));
            if (t == iteration) {
                fire(input);
            }
        }
        Activity out = model().forward(input);
        output_$eq(out);
        return out;
    }

    /**
     * Replicas of one partition run this in parallel on slices of one mini-batch: the first to get here takes the
     * budget, once per batch (the slices share the batch's storage; a restarted training reads new batches).
     */
    private void fire(Activity input) {
        Tensor<Float> first = input.isTensor() ? input.toTensor(FloatTypes.NUMERIC)
                : input.toTable().<Tensor<Float>>apply(1);
        float[] batch = Tensors.data(first);
        synchronized (FIRED) {
            AtomicInteger count = FIRED.computeIfAbsent(key, k -> new AtomicInteger());
            java.lang.ref.WeakReference<float[]> last = LAST_BATCH.get(key);
            if (count.get() >= times || last != null && last.get() == batch) {
                return;
            }
            count.incrementAndGet();
            LAST_BATCH.put(key, new java.lang.ref.WeakReference<>(batch));
        }
        if (kind == Kind.THROW) {
            throw new IllegalStateException("injected task failure at iteration " + iteration);
        }
        BlockManager blocks = SparkEnv.get().blockManager();
        List<BlockId> lost = new ArrayList<>(JavaConverters.seqAsJavaList(blocks.getMatchingBlockIds(
                (scala.Function1<BlockId, Object>) id -> PARAMETER_BLOCK.matcher(id.name()).matches())));
        if (lost.isEmpty()) {
            throw new IllegalStateException("no AllReduceParameter block to remove: DLlib's block names changed");
        }
        // DLlib reads the weight and gradient chunks on pooled threads (not as a task) and never releases those read
        // locks, which would make the removal wait forever; a dead executor takes its locks with it
        long nonTask = org.apache.spark.storage.BlockInfo$.MODULE$.NON_TASK_WRITER();
        blocks.releaseAllLocksForTask(nonTask);
        blocks.blockInfoManager().registerTask(nonTask); // the release forgets it; Spark registers it at start
        Thread remover = new Thread(() -> lost.forEach(id -> blocks.removeBlock(id, true)), "SparkTaskFault");
        remover.start();
        try {
            remover.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (remover.isAlive()) {
            throw new IllegalStateException("SparkTaskFault: the parameter blocks stayed locked for 30 s: " + lost);
        }
    }

    @Override
    public Activity updateGradInput(Activity input, Activity gradOutput) {
        Activity grad = model().updateGradInput(input, gradOutput);
        gradInput_$eq(grad);
        return grad;
    }

    @Override
    public void accGradParameters(Activity input, Activity gradOutput) {
        model().accGradParameters(input, gradOutput);
    }

    @Override
    public Activity backward(Activity input, Activity gradOutput) {
        Activity grad = model().backward(input, gradOutput);
        gradInput_$eq(grad);
        return grad;
    }

    @Override
    @SuppressWarnings("unchecked")
    public Tensor<Float>[] getExtraParameter() {
        List<Tensor<Float>> extra = new ArrayList<>();
        Tensor<Float>[] inner = model().getExtraParameter();
        if (inner != null) {
            extra.addAll(List.of(inner));
        }
        extra.add(forwards);
        return extra.toArray(new Tensor[0]);
    }

    @Override
    public String toString() {
        return "SparkTaskFault(" + kind + " at " + iteration + ", " + key + ")[" + model() + "]";
    }
}
