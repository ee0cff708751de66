package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import com.intel.analytics.bigdl.dllib.utils.T$;
import com.intel.analytics.bigdl.dllib.utils.Table;
import scala.Function1;
import scala.Tuple2;

/**
 * Base of sparkvit's own optimisation methods. DLlib calls {@code optimize(feval, x)} once per iteration with a
 * slice of the flat parameter buffer and its gradient; subclasses implement {@link #update} on those two tensors in
 * plain Java.
 *
 * <p>Under DistriOptimizer each partition owns a contiguous chunk of the flat buffer, and a method gets the
 * intersection of its submodule's slice with that chunk, without its offset (docs/ENGINE.md). The same partition
 * always gets the same slice, so per-element state sized to the slice (Adam moments) is consistent.
 *
 * <p>Under {@link NonFiniteGuard} every call carries a {@link StepVerdict}: a dropped step calls {@link #skipStep}
 * instead of {@link #update}, on every partition alike.
 */
public abstract class FloatOptimMethod implements OptimMethod<Float> {
    private static final long serialVersionUID = 1L;

    private Table state = T$.MODULE$.apply();
    /** The verdict of {@link NonFiniteGuard} on the coming call; none (apply) when training runs without it. */
    private transient StepVerdict verdict;

    /** Applies one step to {@code parameters} given {@code gradients} (same size, contiguous). */
    protected abstract void update(Tensor<Float> parameters, Tensor<Float> gradients);

    /**
     * A step the guard dropped: the step count (and with it the learning-rate schedule) moves on as if the step had
     * been taken, and no weight or moment changes, exactly as a step at rate 0.
     */
    protected abstract void skipStep();

    /** Set by {@link NonFiniteGuard} on each partition before the methods run; used by the next call only. */
    final void verdict(StepVerdict verdict) {
        this.verdict = verdict;
    }

    /** One call under the guard's verdict: update on {@link StepVerdict#APPLY}, skip the step otherwise. */
    protected void apply(Tensor<Float> parameters, Tensor<Float> gradients, StepVerdict verdict) {
        if (verdict == StepVerdict.APPLY) {
            update(parameters, gradients);
        } else {
            skipStep();
        }
    }

    @Override
    public final Tuple2<Tensor<Float>, Object> optimize(Function1<Tensor<Float>, Tuple2<Float, Tensor<Float>>> feval,
            Tensor<Float> parameters) {
        Tuple2<Float, Tensor<Float>> evaluated = feval.apply(parameters);
        StepVerdict now = verdict == null ? StepVerdict.APPLY : verdict;
        verdict = null;
        apply(parameters, evaluated._2(), now);
        return new Tuple2<>(parameters, new float[] {evaluated._1()});
    }

    @Override
    public Table state() {
        return state;
    }

    @Override
    public void state_$eq(Table newState) {
        this.state = newState;
    }

    /** A deep copy (DLlib's default: Java serialization); overridden only to resolve Object.clone's clash. */
    @Override
    public OptimMethod<Float> clone() {
        return OptimMethod.super.clone();
    }

    @Override
    public OptimMethod<Float> loadFromTable(Table config) {
        return this;
    }
}
