package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import java.util.List;
import scala.Tuple2;

/** A module's trainable tensors (weights and their gradients), as Java lists. */
public final class ModuleParameters {
    private ModuleParameters() {
    }

    /** Every trainable weight tensor of {@code module} and its children, in DLlib's order (empty if none). */
    public static List<Tensor<Float>> weights(AbstractModule<?, ?, Float> module) {
        Tuple2<Tensor<Float>[], Tensor<Float>[]> pair = module.parameters();
        return pair == null ? List.of() : List.of(pair._1());
    }

    /** The gradient tensors, index-aligned with {@link #weights(AbstractModule)}. */
    public static List<Tensor<Float>> gradients(AbstractModule<?, ?, Float> module) {
        Tuple2<Tensor<Float>[], Tensor<Float>[]> pair = module.parameters();
        return pair == null ? List.of() : List.of(pair._2());
    }

    /**
     * Compacts every weight of {@code module} into one flat buffer (DLlib's {@code getParameters}: the tensors become
     * views of it, in DLlib's order) and returns that buffer.
     */
    public static Tensor<Float> compact(AbstractModule<?, ?, Float> module) {
        return module.getParameters()._1();
    }

    /** A copy of every weight's values, for before/after comparisons. */
    public static float[][] snapshot(AbstractModule<?, ?, Float> module) {
        List<Tensor<Float>> weights = weights(module);
        float[][] copy = new float[weights.size()][];
        for (int i = 0; i < copy.length; i++) {
            copy[i] = Tensors.toArray(weights.get(i));
        }
        return copy;
    }

}
