package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.nn.Container;
import com.intel.analytics.bigdl.dllib.nn.JoinTable;
import com.intel.analytics.bigdl.dllib.nn.JoinTable$;
import com.intel.analytics.bigdl.dllib.nn.Linear;
import com.intel.analytics.bigdl.dllib.nn.Linear$;
import com.intel.analytics.bigdl.dllib.nn.LogSoftMax;
import com.intel.analytics.bigdl.dllib.nn.LogSoftMax$;
import com.intel.analytics.bigdl.dllib.nn.ReLU;
import com.intel.analytics.bigdl.dllib.nn.ReLU$;
import com.intel.analytics.bigdl.dllib.nn.Sequential;
import com.intel.analytics.bigdl.dllib.nn.Sequential$;
import com.intel.analytics.bigdl.dllib.nn.Tanh;
import com.intel.analytics.bigdl.dllib.nn.Tanh$;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import java.util.ArrayList;
import java.util.List;

/**
 * Factories for the stock DLlib layers sparkvit uses, with Scala's default arguments filled in. Layers DLlib gets
 * wrong for a ViT (LayerNorm, attention, GELU) are not here: sparkvit writes its own (docs/ENGINE.md).
 */
public final class Layers {
    private Layers() {
    }

    /** The direct children of {@code module} in order when it is a DLlib container, else an empty list. */
    public static List<AbstractModule<?, ?, Float>> children(AbstractModule<?, ?, Float> module) {
        List<AbstractModule<?, ?, Float>> children = new ArrayList<>();
        if (module instanceof Container<?, ?, Float> container) {
            scala.collection.Iterator<? extends AbstractModule<?, ?, Float>> it = container.modules().iterator();
            while (it.hasNext()) {
                children.add(it.next());
            }
        }
        return children;
    }

    public static Sequential<Float> sequential() {
        return Sequential$.MODULE$.apply(FloatTypes.TAG, FloatTypes.NUMERIC);
    }

    /** A Sequential with a name (module names are how DLlib finds submodules and their parameters). */
    public static Sequential<Float> sequential(String name) {
        Sequential<Float> sequential = sequential();
        sequential.setName(name);
        return sequential;
    }

    /** Fully connected layer with bias and DLlib's default initialisation. */
    public static Linear<Float> linear(int inputSize, int outputSize) {
        return Linear$.MODULE$.apply(inputSize, outputSize, true, null, null, null, null, null, null,
                FloatTypes.TAG, FloatTypes.NUMERIC);
    }

    /**
     * Concatenates a table of tensors along the batch dimension: the two views of a SimCLR pair, each (B, ...),
     * become one (2B, ...) batch with view 1 in rows 0..B-1 and view 2 in rows B..2B-1. Backward splits the gradient.
     */
    public static JoinTable<Float> joinBatch() {
        return JoinTable$.MODULE$.apply(1, 0, FloatTypes.TAG, FloatTypes.NUMERIC);
    }

    public static ReLU<Float> relu() {
        return ReLU$.MODULE$.apply(false, FloatTypes.TAG, FloatTypes.NUMERIC);
    }

    public static Tanh<Float> tanh() {
        return Tanh$.MODULE$.apply(FloatTypes.TAG, FloatTypes.NUMERIC);
    }

    public static LogSoftMax<Float> logSoftMax() {
        return LogSoftMax$.MODULE$.apply(FloatTypes.TAG, FloatTypes.NUMERIC);
    }
}
