package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import scala.Function1;
import scala.Tuple2;

/**
 * The optimiser of a replica that holds the whole flat parameter buffer (a {@link BarrierSegment} task): one
 * method per named parameter group, each updating only its slice of the flat weights with its slice of the gradient
 * and keeping its own schedule and history (slices from {@link PartitionedOptimizerState#slices}). The slices must
 * tile the buffer (every parameter in exactly one group). Every group's history is a
 * {@link PartitionedOptimizerState.GroupState} over its whole slice, keyed by group name: the form checkpoints hold.
 */
public final class ParameterGroups implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Map<String, OptimMethod<Float>> methods;
    private final Map<String, PartitionedOptimizerState.Slice> slices;
    private final int flatSize;
    private final int stepEvery;
    private transient Tensor<Float>[] weightViews;
    private transient Tensor<Float>[] gradientViews;
    private transient Tensor<Float> viewedWeights;

    private ParameterGroups(Map<String, OptimMethod<Float>> methods, Map<String, PartitionedOptimizerState.Slice> slices,
            int flatSize, int stepEvery) {
        this.methods = methods;
        this.slices = slices;
        this.flatSize = flatSize;
        this.stepEvery = stepEvery;
    }

    /**
     * Copies of {@code methods} (group name to method, sparkvit's {@link StatefulOptimMethod}s) over {@code slices}
     * (group name to slice) of a flat buffer of {@code flatSize} elements. Refuses groups without a method or slice,
     * slices that overlap or leave a gap, and methods of different gradient accumulation.
     */
    public static ParameterGroups of(Map<String, OptimMethod<Float>> methods,
            Map<String, PartitionedOptimizerState.Slice> slices, int flatSize) {
        if (methods.isEmpty()) {
            throw new IllegalArgumentException("parameter groups need at least one group");
        }
        if (!methods.keySet().equals(slices.keySet())) {
            throw new IllegalArgumentException("the optimiser methods' groups " + methods.keySet()
                    + " are not the slices' groups " + slices.keySet());
        }
        List<Map.Entry<String, PartitionedOptimizerState.Slice>> ordered = new ArrayList<>(slices.entrySet());
        ordered.sort(java.util.Comparator.comparingInt(e -> e.getValue().start()));
        int next = 0;
        for (Map.Entry<String, PartitionedOptimizerState.Slice> group : ordered) {
            PartitionedOptimizerState.Slice slice = group.getValue();
            if (slice.start() != next || slice.length() < 0) {
                throw new IllegalArgumentException("parameter group " + group.getKey() + " holds elements ["
                        + slice.start() + ", " + (slice.start() + slice.length()) + ") of the flat buffer; the groups "
                        + "must cover it without overlap or gap, and element " + next + " comes next");
            }
            next += slice.length();
        }
        if (next != flatSize) {
            throw new IllegalArgumentException("the parameter groups cover " + next + " of the " + flatSize
                    + " flat parameters");
        }
        Map<String, OptimMethod<Float>> copies = new LinkedHashMap<>();
        java.util.Set<Integer> steps = new java.util.TreeSet<>();
        for (Map.Entry<String, PartitionedOptimizerState.Slice> group : ordered) {
            OptimMethod<Float> method = methods.get(group.getKey());
            if (!(method instanceof StatefulOptimMethod)) {
                throw new IllegalArgumentException("the optimisation method of group " + group.getKey() + " ("
                        + method + ") cannot hand its state from one segment to the next: use one of sparkvit's "
                        + "(SgdMomentum, AdamW)");
            }
            steps.add(method instanceof GradientAccumulation<?> accumulation ? accumulation.steps() : 1);
            copies.put(group.getKey(), method.clone());
        }
        if (steps.size() != 1) {
            throw new IllegalArgumentException("every parameter group needs the same gradient accumulation, got "
                    + steps + " micro-batches per step");
        }
        Map<String, PartitionedOptimizerState.Slice> sorted = new LinkedHashMap<>();
        ordered.forEach(e -> sorted.put(e.getKey(), e.getValue()));
        return new ParameterGroups(copies, sorted, flatSize, steps.iterator().next());
    }

    /** One method over the whole buffer, as the group {@code name}. */
    public static ParameterGroups whole(String name, OptimMethod<Float> method, int flatSize) {
        return of(Map.of(name, method), Map.of(name, new PartitionedOptimizerState.Slice(0, flatSize)), flatSize);
    }

    /** Fresh copies of the methods (each task's own), with the same slices. */
    public ParameterGroups copy() {
        Map<String, OptimMethod<Float>> copies = new LinkedHashMap<>();
        methods.forEach((name, method) -> copies.put(name, method.clone()));
        return new ParameterGroups(copies, slices, flatSize, stepEvery);
    }

    /** Group names, in flat-buffer order. */
    public java.util.Set<String> names() {
        return slices.keySet();
    }

    /** Group name to slice, in flat-buffer order. */
    public Map<String, PartitionedOptimizerState.Slice> slices() {
        return slices;
    }

    /** Micro-batches per optimiser step ({@link GradientAccumulation}; 1 without). */
    public int stepEvery() {
        return stepEvery;
    }

    public int flatSize() {
        return flatSize;
    }

    /** Every group's history, keyed by group name. */
    public Map<String, PartitionedOptimizerState.GroupState> state() {
        Map<String, PartitionedOptimizerState.GroupState> state = new LinkedHashMap<>();
        methods.forEach((name, method) -> {
            StatefulOptimMethod stateful = (StatefulOptimMethod) method;
            state.put(name, new PartitionedOptimizerState.GroupState(stateful.step(),
                    new LinkedHashMap<>(stateful.buffers())));
        });
        return state;
    }

    /** Puts back every group's history ({@link #state()}); a missing group or a buffer of another size is an error. */
    public void restore(Map<String, PartitionedOptimizerState.GroupState> state) {
        if (!state.keySet().equals(methods.keySet())) {
            throw new IllegalArgumentException("the optimiser state holds groups " + state.keySet() + ", the "
                    + "training has " + methods.keySet());
        }
        methods.forEach((name, method) -> {
            PartitionedOptimizerState.GroupState group = state.get(name);
            int length = slices.get(name).length();
            group.buffers().forEach((buffer, values) -> {
                if (values.length != length) {
                    throw new IllegalArgumentException("optimiser buffer " + buffer + " of group " + name + " has "
                            + values.length + " elements, the group " + length);
                }
            });
            ((StatefulOptimMethod) method).restore(group.step(), group.buffers());
        });
    }

    /**
     * One optimiser step of every group on its slice: {@code weights} and {@code gradients} are the flat buffers
     * ({@link #flatSize()} elements each); under a verdict other than {@link StepVerdict#APPLY} every method is told
     * so ({@link FloatOptimMethod}: the gradient is not used, a dropped step only counts).
     */
    @SuppressWarnings("unchecked")
    public void update(Tensor<Float> weights, Tensor<Float> gradients, float loss, StepVerdict verdict) {
        if (Tensors.size(weights) != flatSize || Tensors.size(gradients) != flatSize) {
            throw new IllegalArgumentException("parameter groups over " + flatSize + " elements were given "
                    + Tensors.size(weights) + " weights and " + Tensors.size(gradients) + " gradients");
        }
        if (viewedWeights != weights || weightViews == null) {
            weightViews = new Tensor[methods.size()];
            gradientViews = new Tensor[methods.size()];
            int i = 0;
            for (PartitionedOptimizerState.Slice slice : slices.values()) {
                weightViews[i] = slice.length() == 0 ? null : weights.narrow(1, slice.start() + 1, slice.length());
                gradientViews[i] = slice.length() == 0 ? null : gradients.narrow(1, slice.start() + 1,
                        slice.length());
                i++;
            }
            viewedWeights = weights;
        }
        int i = 0;
        for (OptimMethod<Float> method : methods.values()) {
            Tensor<Float> w = weightViews[i];
            Tensor<Float> g = gradientViews[i];
            i++;
            if (w == null) {
                continue;
            }
            if (verdict != StepVerdict.APPLY) {
                if (!(method instanceof FloatOptimMethod floatMethod)) {
                    throw new IllegalStateException("skipping a step needs sparkvit's optimisation methods, not "
                            + method);
                }
                floatMethod.verdict(verdict);
            }
            Function1<Tensor<Float>, Tuple2<Float, Tensor<Float>>> feval = x -> new Tuple2<>(loss, g);
            method.optimize(feval, w);
        }
    }

    /**
     * A 64-bit hash of every group's step, buffer names and bits in {@code state}, a {@link #state()} (the replicas'
     * check; a task hashes the state it returns rather than copying every buffer once more at its peak of memory).
     */
    static long hash(Map<String, PartitionedOptimizerState.GroupState> state) {
        long h = 0xcbf29ce484222325L;
        for (Map.Entry<String, PartitionedOptimizerState.GroupState> group : state.entrySet()) {
            h = (h ^ group.getKey().hashCode()) * 0x100000001b3L;
            h = (h ^ hash(group.getValue())) * 0x100000001b3L;
        }
        return h;
    }

    /** A 64-bit hash of a state's step, buffer names and bits, in the buffers' (fixed) order. */
    static long hash(PartitionedOptimizerState.GroupState state) {
        long h = 0xcbf29ce484222325L ^ state.step();
        for (Map.Entry<String, float[]> buffer : new java.util.TreeMap<>(state.buffers()).entrySet()) {
            h = (h ^ buffer.getKey().hashCode()) * 0x100000001b3L;
            for (float v : buffer.getValue()) {
                h = (h ^ Float.floatToRawIntBits(v)) * 0x100000001b3L;
            }
        }
        return h;
    }
}
