package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Moves optimiser history between DistriOptimizer's per-partition methods and one global state per parameter group,
 * independent of the partition count. DLlib cuts the flat parameter buffer of N elements into P chunks (partition p
 * starts at {@code p * (N / P) + min(p, N % P)}, as AllReduceParameter) and gives the method of group g on partition
 * p the intersection of g's slice with p's chunk. Concatenating those pieces in partition order rebuilds the group's
 * buffers; cutting them again by another P restores them on another cluster shape.
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

    /** The chunk of partition {@code p} of {@code partitions} over {@code n} elements. */
    public static Slice chunk(int n, int partitions, int p) {
        int task = n / partitions;
        int extra = n % partitions;
        return new Slice(p * task + Math.min(p, extra), task + (p < extra ? 1 : 0));
    }

    /**
     * The slice of every named submodule in the flat buffer of {@code model}, whose parameters must already be
     * compacted ({@code getParameters()}, which DistriOptimizer calls too).
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

    /** Gathers the groups' global state from the methods of every partition (in partition order). */
    public static Map<String, GroupState> gather(List<Map<String, OptimMethod<Float>>> partitions,
            Map<String, Slice> groups, int flatSize) {
        Map<String, GroupState> result = new LinkedHashMap<>();
        for (Map.Entry<String, Slice> group : groups.entrySet()) {
            Slice slice = group.getValue();
            Map<String, float[]> buffers = new LinkedHashMap<>();
            long step = -1;
            for (int p = 0; p < partitions.size(); p++) {
                Slice piece = intersection(slice, chunk(flatSize, partitions.size(), p));
                if (piece.length() == 0) {
                    continue;
                }
                StatefulOptimMethod method = stateful(partitions.get(p).get(group.getKey()), group.getKey());
                if (step >= 0 && method.step() != step) {
                    throw new IllegalStateException("group " + group.getKey() + " took " + step + " steps on one "
                            + "partition and " + method.step() + " on partition " + p);
                }
                step = method.step();
                for (Map.Entry<String, float[]> buffer : method.buffers().entrySet()) {
                    float[] values = buffer.getValue();
                    if (values.length != piece.length()) {
                        throw new IllegalStateException("group " + group.getKey() + " buffer " + buffer.getKey()
                                + " on partition " + p + " has " + values.length + " elements, its slice "
                                + piece.length());
                    }
                    System.arraycopy(values, 0, buffers.computeIfAbsent(buffer.getKey(), k -> new float[slice.length()]),
                            piece.start() - slice.start(), values.length);
                }
            }
            result.put(group.getKey(), new GroupState(Math.max(step, 0), buffers));
        }
        return result;
    }

    /**
     * Builds the methods of {@code partitionCount} partitions from global group states: {@code factory} makes a fresh
     * method of a group, which then gets its partition's piece of the history.
     */
    public static List<Map<String, OptimMethod<Float>>> scatter(Map<String, GroupState> states,
            Map<String, Slice> groups, int flatSize, int partitionCount,
            Function<String, OptimMethod<Float>> factory) {
        List<Map<String, OptimMethod<Float>>> result = new ArrayList<>();
        for (int p = 0; p < partitionCount; p++) {
            Map<String, OptimMethod<Float>> methods = new LinkedHashMap<>();
            for (Map.Entry<String, Slice> group : groups.entrySet()) {
                GroupState state = states.get(group.getKey());
                if (state == null) {
                    throw new IllegalArgumentException("no optimiser state for parameter group " + group.getKey());
                }
                OptimMethod<Float> method = factory.apply(group.getKey());
                Slice piece = intersection(group.getValue(), chunk(flatSize, partitionCount, p));
                Map<String, float[]> pieces = new LinkedHashMap<>();
                if (piece.length() > 0) {
                    for (Map.Entry<String, float[]> buffer : state.buffers().entrySet()) {
                        if (buffer.getValue().length != group.getValue().length()) {
                            throw new IllegalArgumentException("optimiser buffer " + buffer.getKey() + " of group "
                                    + group.getKey() + " has " + buffer.getValue().length + " elements, the group "
                                    + group.getValue().length());
                        }
                        int from = piece.start() - group.getValue().start();
                        pieces.put(buffer.getKey(), java.util.Arrays.copyOfRange(buffer.getValue(), from,
                                from + piece.length()));
                    }
                }
                stateful(method, group.getKey()).restore(state.step(), pieces);
                methods.put(group.getKey(), method);
            }
            result.add(methods);
        }
        return result;
    }

    private static Slice intersection(Slice a, Slice b) {
        int start = Math.max(a.start(), b.start());
        int end = Math.min(a.start() + a.length(), b.start() + b.length());
        return new Slice(start, Math.max(0, end - start));
    }

    private static StatefulOptimMethod stateful(OptimMethod<Float> method, String group) {
        if (method instanceof StatefulOptimMethod stateful) {
            return stateful;
        }
        throw new IllegalArgumentException("the optimisation method of group " + group + " (" + method
                + ") cannot save its history");
    }
}
