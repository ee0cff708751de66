package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.intel.analytics.bigdl.dllib.nn.Sequential;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.model.optim.SgdMomentum;
import dev.sparkvit.testing.BarrierRuns;
import dev.sparkvit.testing.SharedSpark;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A barrier task releases its replica's activations once its last iteration is done, before the copies of its
 * result (vit_tiny at 32 px holds about 1.7 GB of them for a slice of 32 images): every task of every segment clears
 * the replica's outputs and input gradients.
 */
@ExtendWith(SharedSpark.class)
class BarrierTaskReleaseTest {
    /** Clears of a {@link Probe} that held activations and holds none after. */
    private static final AtomicInteger RELEASED = new AtomicInteger();

    /** The identity, counting in {@link #RELEASED} the clears that released its activations. */
    static final class Probe extends FloatModule {
        private static final long serialVersionUID = 1L;

        @Override
        public Tensor<Float> updateOutput(Tensor<Float> input) {
            output().resizeAs(input).copy(input);
            return output();
        }

        @Override
        public Tensor<Float> updateGradInput(Tensor<Float> input, Tensor<Float> gradOutput) {
            gradInput().resizeAs(gradOutput).copy(gradOutput);
            return gradInput();
        }

        @Override
        public AbstractModule<Tensor<Float>, Tensor<Float>, Float> clearState() {
            boolean held = output().nElement() > 0 && gradInput().nElement() > 0;
            super.clearState();
            if (held && output().nElement() == 0 && gradInput().nElement() == 0) {
                RELEASED.incrementAndGet();
            }
            return this;
        }
    }

    @Test
    void everyTaskClearsItsReplicaAtTheEndOfEverySegment() {
        Seeds.seedWeightInit(Seeds.DEFAULT);
        Sequential<Float> model = Layers.sequential();
        model.add(Layers.linear(8, 16)); // BarrierSegmentSmokeTest's blobs have 8 features
        model.add(new Probe()); // after a Linear: its output and its input gradient are both computed
        model.add(Layers.tanh());
        model.add(Layers.linear(16, 2));
        model.add(Layers.logSoftMax());
        SgdMomentum sgd = new SgdMomentum(i -> 0.1, 0.9, false);
        RELEASED.set(0);
        try (BarrierSegment segment = new BarrierSegment(BarrierRuns.module(model), BarrierSegmentSmokeTest.blobs(64,
                3), 16, BarrierRuns.classNll(), sgd)) {
            BarrierSegment.Result first = segment.run(BarrierSegment.Start.of(model, sgd, 0), 2);
            segment.run(first.next(), 2);
            assertEquals(2 * SharedSpark.CORES, RELEASED.get(), "replicas released, 2 segments of "
                    + SharedSpark.CORES + " tasks");
        }
    }
}
