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
 */
public abstract class FloatOptimMethod implements OptimMethod<Float> {
    private static final long serialVersionUID = 1L;

    private Table state = T$.MODULE$.apply();

    /** Applies one step to {@code parameters} given {@code gradients} (same size, contiguous). */
    protected abstract void update(Tensor<Float> parameters, Tensor<Float> gradients);

    @Override
    public final Tuple2<Tensor<Float>, Object> optimize(Function1<Tensor<Float>, Tuple2<Float, Tensor<Float>>> feval,
            Tensor<Float> parameters) {
        Tuple2<Float, Tensor<Float>> evaluated = feval.apply(parameters);
        update(parameters, evaluated._2());
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
