package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The optimiser state of a model's parameter groups, one entry per group name, independent of the layout it was
 * trained on: each group is a contiguous slice of the flat parameter buffer ({@link #slices}), and its state
 * ({@link GroupState}) covers the whole slice. Checkpoints store it by name; {@link ParameterGroups} restores it.
 */
public final class PartitionedOptimizerState {
    private PartitionedOptimizerState() {
    }

    /** A group's contiguous elements {@code [start, start + length)} of the flat buffer (0-based). */
    public record Slice(int start, int length) implements java.io.Serializable {
    }

    /** The history of one group: steps taken and its buffers over the whole group (empty before any step). */
    public record GroupState(long step, Map<String, float[]> buffers) implements java.io.Serializable {
    }

    /**
     * The slice of every named submodule in the flat buffer of {@code model}, whose parameters must already be
     * compacted ({@code getParameters()}).
     */
    public static Map<String, Slice> slices(AbstractModule<?, ?, Float> model,
            Map<String, ? extends AbstractModule<?, ?, Float>> submodules) {
        model.getParameters();
        Map<String, Slice> result = new LinkedHashMap<>();
        submodules.forEach((name, module) -> {
            Tensor<Float> flat = module.getParameters()._1();
            result.put(name, new Slice(flat.storageOffset() - 1, flat.nElement()));
        });
        return result;
    }
}
