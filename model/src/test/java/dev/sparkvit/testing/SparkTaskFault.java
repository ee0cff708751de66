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
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * A failure of a real Spark training task, for tests of what a training job does when its Spark work fails: wraps a
 * model and, in the forward pass of a chosen training iteration (0-based, of the run: the barrier loop tells every
 * task's copy the iteration, {@link dev.sparkvit.engine.IterationAware}), in the first barrier task only, either
 * <ul>
 *   <li>{@link Kind#LOSE_EXCHANGE_PEER}: fails the task as a task of the gradient exchange fails when the executor
 *       holding a block it reads has died ({@code engine.FloatBlocks}: "block ... is on no executor"). In local mode
 *       the driver is the only executor, so its death cannot be staged; the real death is ExecutorKillTest's, on a
 *       standalone cluster. The barrier stage then fails as a whole, as it does after a real loss;
 *   <li>{@link Kind#THROW}: throws from the task, as a bug or a bad input inside a task would.
 * </ul>
 * The fault fires at most {@code times} times in this JVM for a given {@code key} (local mode: the tasks run in the
 * test's JVM), so a restarted training meets it again only while that budget lasts.
 */
public final class SparkTaskFault extends Container<Activity, Activity, Float>
        implements dev.sparkvit.engine.IterationAware {
    private static final long serialVersionUID = 1L;
    private static final Map<String, AtomicInteger> FIRED = new ConcurrentHashMap<>();

    /** What goes wrong. */
    public enum Kind {
        /** A block of the exchange is on no executor any more, as after the death of the executor holding it. */
        LOSE_EXCHANGE_PEER,
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

    /** The barrier loop tells every task's copy the iteration: count from it. */
    @Override
    public void setIteration(long iteration) {
        forwards.setValue(1, (float) iteration);
    }

    @Override
    public Activity updateOutput(Activity input) {
        if (isTraining()) {
            long t = (long) (float) forwards.valueAt(1);
            forwards.setValue(1, (float) (t + 1));
            org.apache.spark.TaskContext task = org.apache.spark.TaskContext.get();
            if (t == iteration && task != null && task.partitionId() == 0) {
                fire();
            }
        }
        Activity out = model().forward(input);
        output_$eq(out);
        return out;
    }

    /** Takes the budget (one firing per attempt: only the first task fires) and fails the task. */
    private void fire() {
        AtomicInteger count = FIRED.computeIfAbsent(key, k -> new AtomicInteger());
        if (count.getAndUpdate(c -> c < times ? c + 1 : c) >= times) {
            return;
        }
        if (kind == Kind.THROW) {
            throw new IllegalStateException("injected task failure at iteration " + iteration);
        }
        throw new IllegalStateException("block sparkvit_allreduce_injected_" + iteration + " is on no executor");
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
