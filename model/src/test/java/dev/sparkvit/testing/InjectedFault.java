package dev.sparkvit.testing;

import com.intel.analytics.bigdl.dllib.nn.Container;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatTypes;
import dev.sparkvit.engine.Tensors;
import java.util.ArrayList;
import java.util.List;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * A deterministic training fault for tests: wraps a model and, on chosen training iterations (0-based), poisons
 * either its input (one element NaN, as a corrupt sample would: the loss and the gradients come out NaN) or, with
 * the forward pass left alone, the gradient flowing back into it (one element +Inf: the loss is finite, the
 * parameter gradients are not). Every replica is hit, in the first sample of its slice.
 * Every replica counts its own training forwards in a tensor that DLlib ships as an extra parameter, so the count
 * survives DistriOptimizer's segments (replicas are re-cloned from the driver model at every {@code optimize()}).
 */
public final class InjectedFault extends Container<Activity, Activity, Float>
        implements dev.sparkvit.engine.IterationAware {
    private static final long serialVersionUID = 1L;

    /** What goes wrong at a faulty iteration. */
    public enum Kind {
        /** One input element NaN: the loss is NaN and so is the gradient. */
        NAN_INPUT,
        /** One element of the incoming gradient +Inf: the loss is finite, the parameter gradients are not. */
        INF_GRADIENT,
        /**
         * After the backward pass, one element of the model's last parameter gradient NaN: that parameter's gradient
         * alone is non-finite (under several partitions, only the chunk holding it).
         */
        NAN_LAST_GRADIENT
    }

    private final Kind kind;
    private final long[] iterations;
    private final Tensor<Float> forwards = Tensors.zeros(1);
    private transient boolean faultyNow;
    /** The input the forward pass saw (poisoned or not), for the backward pass of the same iteration. */
    private transient Activity forwarded;

    @SuppressWarnings("unchecked")
    public InjectedFault(AbstractModule<?, ?, Float> model, Kind kind, long... iterations) {
        super(tag(), tag(), FloatTypes.TAG, FloatTypes.NUMERIC);
        this.kind = kind;
        this.iterations = iterations.clone();
        modules().$plus$eq((AbstractModule<Activity, Activity, Float>) (AbstractModule<?, ?, ?>) model);
    }

    @SuppressWarnings("unchecked")
    private static ClassTag<Activity> tag() {
        return (ClassTag<Activity>) (ClassTag<?>) ClassTag$.MODULE$.apply(Activity.class);
    }

    private AbstractModule<Activity, Activity, Float> model() {
        return modules().apply(0);
    }

    /** The barrier loop tells every task's copy the iteration ({@code engine.BarrierSegment}): count from it. */
    @Override
    public void setIteration(long iteration) {
        forwards.setValue(1, (float) iteration);
    }

    @Override
    public Activity updateOutput(Activity input) {
        faultyNow = false;
        if (isTraining()) {
            long t = (long) (float) forwards.valueAt(1);
            forwards.setValue(1, (float) (t + 1));
            for (long at : iterations) {
                faultyNow |= at == t;
            }
        }
        Activity in = input;
        if (faultyNow && kind == Kind.NAN_INPUT) {
            if (input.isTensor()) {
                Tensor<Float> poisoned = input.toTensor(FloatTypes.NUMERIC).clone();
                Tensors.data(poisoned)[Tensors.offset(poisoned)] = Float.NaN;
                in = poisoned;
            } else { // a table of views: the batch buffer is refilled for the next iteration anyway
                Tensor<Float> first = input.toTable().<Tensor<Float>>apply(1);
                Tensors.data(first)[Tensors.offset(first)] = Float.NaN;
            }
        }
        forwarded = in;
        Activity out = model().forward(in);
        output_$eq(out);
        return out;
    }

    private Activity seen(Activity input) {
        return faultyNow && forwarded != null ? forwarded : input;
    }

    private Activity incoming(Activity gradOutput) {
        if (!faultyNow || kind != Kind.INF_GRADIENT) {
            return gradOutput;
        }
        Tensor<Float> poisoned = gradOutput.toTensor(FloatTypes.NUMERIC).clone();
        Tensors.data(poisoned)[Tensors.offset(poisoned)] = Float.POSITIVE_INFINITY;
        return poisoned;
    }

    @Override
    public Activity updateGradInput(Activity input, Activity gradOutput) {
        Activity grad = model().updateGradInput(seen(input), incoming(gradOutput));
        gradInput_$eq(grad);
        return grad;
    }

    @Override
    public void accGradParameters(Activity input, Activity gradOutput) {
        model().accGradParameters(seen(input), incoming(gradOutput));
        poisonLastGradient();
    }

    @Override
    public Activity backward(Activity input, Activity gradOutput) {
        Activity grad = model().backward(seen(input), incoming(gradOutput));
        poisonLastGradient();
        gradInput_$eq(grad);
        return grad;
    }

    private void poisonLastGradient() {
        if (faultyNow && kind == Kind.NAN_LAST_GRADIENT) {
            List<Tensor<Float>> gradients = dev.sparkvit.engine.ModuleParameters.gradients(model());
            Tensor<Float> last = gradients.get(gradients.size() - 1);
            Tensors.data(last)[Tensors.offset(last)] = Float.NaN;
        }
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
        return "InjectedFault(" + kind + " at " + java.util.Arrays.toString(iterations) + ")[" + model() + "]";
    }
}
