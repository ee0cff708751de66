package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.nn.Container;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * An exponential moving average of every weight of the wrapped model, updated exactly once per training iteration:
 * {@code ema = d * ema + (1 - d) * w}. Each training forward first folds in the weights as they are then, so the
 * forward pass of iteration t sees the weights after t - 1 updates; after training call {@link #update()} once to
 * fold in the final weights. The training jobs do not wrap their model in it: {@link BarrierSegment.Ema} keeps the
 * same average of the flat weights (this class is its definition).
 *
 * <p>With warmup the decay of update k (1-based) is {@code min(decay, (1 + k) / (10 + k))}, as timm's ModelEmaV2.
 *
 * <p>Under {@link GradientAccumulation} of k micro-batches the weights change every k-th iteration; with
 * {@code interval} k the average folds them in on training forwards {@code t % k == 0} only, once per step.
 *
 * <p>A step dropped under the non-finite rules ({@link NonFiniteGuard}) leaves the weights as they were;
 * {@link #skipNextFold()} marks the container so that the next fold, which would take in those same weights a second
 * time, does not happen: the average then equals that of a run in which the dropped step never existed.
 */
public final class EmaContainer extends Container<Activity, Activity, Float> {
    private static final long serialVersionUID = 1L;
    private static final ClassTag<Activity> ACTIVITY = tag();

    private final double decay;
    private final boolean warmup;
    private final Tensor<Float>[] average;
    private final Tensor<Float> updates = Tensors.zeros(1);
    private final int interval;
    /** Training forwards so far (travels with the replicas, as the average). */
    private final Tensor<Float> forwards = Tensors.zeros(1);
    /** 1 when the step whose weights the next fold would take in was dropped (NonFiniteGuard); travels too. */
    private final Tensor<Float> skipNextFold = Tensors.zeros(1);

    public EmaContainer(AbstractModule<?, ?, Float> model, double decay, boolean warmup) {
        this(model, decay, warmup, 1);
    }

    @SuppressWarnings("unchecked")
    public EmaContainer(AbstractModule<?, ?, Float> model, double decay, boolean warmup, int interval) {
        super(ACTIVITY, ACTIVITY, FloatTypes.TAG, FloatTypes.NUMERIC);
        if (!(decay >= 0 && decay < 1)) {
            throw new IllegalArgumentException("EMA decay must be in [0, 1), got " + decay);
        }
        if (interval < 1) {
            throw new IllegalArgumentException("EMA interval must be at least 1, got " + interval);
        }
        this.decay = decay;
        this.warmup = warmup;
        this.interval = interval;
        modules().$plus$eq((AbstractModule<Activity, Activity, Float>) (AbstractModule<?, ?, ?>) model);
        List<Tensor<Float>> weights = ModuleParameters.weights(model);
        average = weights.stream().map(Tensor::clone).toArray(Tensor[]::new);
    }

    @SuppressWarnings("unchecked")
    private static ClassTag<Activity> tag() {
        return (ClassTag<Activity>) (ClassTag<?>) ClassTag$.MODULE$.apply(Activity.class);
    }

    private AbstractModule<Activity, Activity, Float> model() {
        return modules().apply(0);
    }

    /** The decay the next update uses. */
    public double nextDecay() {
        double k = updates.valueAt(1) + 1;
        return warmup ? Math.min(decay, (1 + k) / (10 + k)) : decay;
    }

    /**
     * Folds the model's current weights into the average, unless the step that produced them was dropped by the
     * non-finite guard ({@link #skipNextFold()}): those weights are the ones already folded in, and a dropped step
     * changes the average no more than the weights.
     */
    public void update() {
        if (skipNextFold.valueAt(1) != 0) {
            skipNextFold.setValue(1, 0f);
            return;
        }
        float d = (float) nextDecay();
        List<Tensor<Float>> weights = ModuleParameters.weights(model());
        for (int i = 0; i < average.length; i++) {
            float[] a = Tensors.data(average[i]);
            int ao = Tensors.offset(average[i]);
            Tensor<Float> w = Tensors.contiguous(weights.get(i));
            float[] wd = Tensors.data(w);
            int wo = Tensors.offset(w);
            for (int j = 0; j < Tensors.size(w); j++) {
                a[ao + j] = d * a[ao + j] + (1 - d) * wd[wo + j];
            }
        }
        updates.setValue(1, updates.valueAt(1) + 1);
    }

    /**
     * The step that ends at this iteration was dropped ({@link StepVerdict#DROP_STEP}): the next fold, which would take
     * in its (unchanged) weights, does not happen and does not count.
     */
    public void skipNextFold() {
        skipNextFold.setValue(1, 1f);
    }

    /** Whether the next fold is skipped (a dropped step's weights are pending); part of a checkpoint's EMA state. */
    public boolean skipsNextFold() {
        return skipNextFold.valueAt(1) != 0;
    }

    /** The averaged weights, aligned with the model's parameters. */
    public List<Tensor<Float>> averagedWeights() {
        return List.of(average);
    }

    /**
     * Puts back an average and its update count read from a checkpoint ({@link #averagedWeights()},
     * {@link #updateCount()}), before training continues.
     */
    public void restore(List<float[]> averages, long updateCount) {
        restore(averages, updateCount, updateCount);
    }

    /** As {@link #restore(List, long)}, with the training forwards run so far (the iterations trained). */
    public void restore(List<float[]> averages, long updateCount, long trainingForwards) {
        restore(averages, updateCount, trainingForwards, false);
    }

    /**
     * As {@link #restore(List, long, long)}, with whether the last step before the checkpoint was dropped by the
     * non-finite guard (its weights, already folded in, must not be folded again).
     */
    public void restore(List<float[]> averages, long updateCount, long trainingForwards, boolean skipsNextFold) {
        if (averages.size() != average.length || updateCount < 0) {
            throw new IllegalArgumentException("an EMA of " + average.length + " tensors cannot take " + averages.size()
                    + " tensors and " + updateCount + " updates");
        }
        for (int i = 0; i < average.length; i++) {
            if (averages.get(i).length != average[i].nElement()) {
                throw new IllegalArgumentException("EMA tensor " + i + " has " + average[i].nElement()
                        + " elements, the restored one " + averages.get(i).length);
            }
            average[i].copy(Tensors.of(averages.get(i), Tensors.shape(average[i])));
        }
        updates.setValue(1, (float) updateCount);
        forwards.setValue(1, (float) trainingForwards);
        skipNextFold.setValue(1, skipsNextFold ? 1f : 0f);
    }

    /** Updates applied so far. */
    public long updateCount() {
        return (long) (float) updates.valueAt(1);
    }

    @Override
    public Activity updateOutput(Activity input) {
        if (isTraining()) {
            long t = (long) (float) forwards.valueAt(1);
            if (t % interval == 0) {
                update();
            }
            forwards.setValue(1, (float) (t + 1));
        }
        Activity out = model().forward(input);
        output_$eq(out);
        return out;
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
        extra.addAll(List.of(average));
        extra.add(updates);
        extra.add(forwards);
        extra.add(skipNextFold);
        return extra.toArray(new Tensor[0]);
    }

    @Override
    public String toString() {
        return "EMA(decay=" + decay + (warmup ? ", warmup" : "") + ")[" + model() + "]";
    }
}
