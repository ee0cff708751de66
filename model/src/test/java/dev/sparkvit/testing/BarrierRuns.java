package dev.sparkvit.testing;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractCriterion;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.BarrierSegment;
import dev.sparkvit.engine.Criteria;
import dev.sparkvit.engine.DataParallelStep;
import dev.sparkvit.engine.Tensors;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs {@link BarrierSegment}s the way the jobs' barrier loop does: from a start up to an iteration, in segments that
 * end at every epoch's end (a segment never crosses one), each starting from the previous one's {@code next()}.
 */
public final class BarrierRuns {
    private BarrierRuns() {
    }

    /** The mean ClassNLL of the global batch (the loss of a model ending in LogSoftMax). */
    public static BarrierSegment.Loss classNll() {
        return () -> DataParallelStep.meanOverGlobalBatch(tensors(Criteria.classNll()));
    }

    /** The mean cross-entropy of the global batch. */
    public static BarrierSegment.Loss crossEntropy() {
        return () -> DataParallelStep.meanOverGlobalBatch(tensors(Criteria.crossEntropy()));
    }

    /** A DLlib criterion over tensors, as the mean over the global batch takes it. */
    @SuppressWarnings("unchecked")
    public static AbstractCriterion<Tensor<Float>, Tensor<Float>, Float> tensors(AbstractCriterion<?, ?, Float> criterion) {
        return (AbstractCriterion<Tensor<Float>, Tensor<Float>, Float>) (AbstractCriterion<?, ?, ?>) criterion;
    }

    /** A model as the barrier segment takes it. */
    @SuppressWarnings("unchecked")
    public static AbstractModule<Activity, Activity, Float> module(AbstractModule<?, ?, Float> model) {
        return (AbstractModule<Activity, Activity, Float>) (AbstractModule<?, ?, ?>) model;
    }

    /** Segments from {@code start} until {@code until} iterations are done, cut at epoch ends; the last's result. */
    public static BarrierSegment.Result until(BarrierSegment segment, BarrierSegment.Start start, long until) {
        if (until <= start.iteration()) {
            throw new IllegalArgumentException("the start is at iteration " + start.iteration() + ", not before "
                    + until);
        }
        long perEpoch = segment.iterationsPerEpoch();
        BarrierSegment.Result last = null;
        BarrierSegment.Start at = start;
        while (at.iteration() < until) {
            long epochEnd = (at.iteration() / perEpoch + 1) * perEpoch;
            last = segment.run(at, Math.toIntExact(Math.min(until, epochEnd) - at.iteration()));
            at = last.next();
        }
        return last;
    }

    /** {@link #until} each of {@code stops} in turn, each from the previous one's result. */
    public static BarrierSegment.Result stops(BarrierSegment segment, BarrierSegment.Start start, long... stops) {
        BarrierSegment.Result last = null;
        BarrierSegment.Start at = start;
        for (long stop : stops) {
            last = until(segment, at, stop);
            at = last.next();
        }
        return last;
    }

    /**
     * A copy of {@code start} through Java serialization, as a checkpoint carries it to another driver: nothing of
     * the run that made it is shared with the copy.
     */
    public static BarrierSegment.Start copy(BarrierSegment.Start start) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(start);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialize a segment's start", e);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (BarrierSegment.Start) in.readObject();
        } catch (IOException | ClassNotFoundException e) {
            throw new IllegalStateException("cannot read a segment's start back", e);
        }
    }

    /** Copies a segment's flat weights into {@code model}'s parameters (the {@code getParameters()} order). */
    public static void load(AbstractModule<?, ?, Float> model, float[] weights) {
        Tensor<Float> flat = model.getParameters()._1();
        if (flat.nElement() != weights.length) {
            throw new IllegalArgumentException(weights.length + " weights for a model of " + flat.nElement());
        }
        System.arraycopy(weights, 0, Tensors.data(flat), Tensors.offset(flat),
                weights.length);
    }

    /** The flat weights of {@code model} (compacted by {@code getParameters()}) cut into its parameter tensors. */
    public static List<float[]> tensors(AbstractModule<?, ?, Float> model, float[] flat) {
        model.getParameters();
        List<float[]> out = new ArrayList<>();
        for (Tensor<Float> w : model.parameters()._1()) {
            int start = w.storageOffset() - 1;
            out.add(java.util.Arrays.copyOfRange(flat, start, start + w.nElement()));
        }
        return out;
    }
}
