package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import com.intel.analytics.bigdl.dllib.utils.T$;
import com.intel.analytics.bigdl.dllib.utils.Table;
import scala.Function1;
import scala.Tuple2;

/**
 * Base of sparkvit's own optimisation methods. {@link ParameterGroups#update} calls DLlib's
 * {@code optimize(feval, x)} once per iteration with the method's group's slice of the flat parameter buffer and the
 * same slice of the exchanged gradient; subclasses implement {@link #update} on those two tensors in plain Java.
 *
 * <p>Every barrier task has its own instance per group, always given the same slice (a method sees the slice only,
 * not its place in the flat buffer), so per-element state sized to the slice (Adam moments) is consistent.
 *
 * <p>Under the non-finite rules ({@link NonFiniteGuard}) a call may carry a {@link StepVerdict}: any verdict but
 * {@link StepVerdict#APPLY} calls {@link #skipStep} instead of {@link #update}, on every task alike.
 */
public abstract class FloatOptimMethod implements OptimMethod<Float> {
    private static final long serialVersionUID = 1L;

    private Table state = T$.MODULE$.apply();
    /** The non-finite rules' verdict on the coming call; none (apply) unless one was set. */
    private transient StepVerdict verdict;

    /** Applies one step to {@code parameters} given {@code gradients} (same size, contiguous). */
    protected abstract void update(Tensor<Float> parameters, Tensor<Float> gradients);

    /**
     * A step the guard dropped: the step count (and with it the learning-rate schedule) moves on as if the step had
     * been taken, and no weight or moment changes, exactly as a step at rate 0.
     */
    protected abstract void skipStep();

    /** Set by {@link ParameterGroups#update} on every task before a call not applied; used by the next call only. */
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
