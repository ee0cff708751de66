package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.nn.Sequential;
import dev.sparkvit.model.optim.SgdMomentum;
import dev.sparkvit.testing.BarrierRuns;
import dev.sparkvit.testing.SharedSpark;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** LARS on the barrier engine (2 tasks) takes the step computed by hand from the same gradient. */
@ExtendWith(SharedSpark.class)
class LarsAdaptationTest {
    private static List<float[]> oneStep(Sequential<Float> model, double rate, LarsAdaptation lars) {
        SgdMomentum sgd = new SgdMomentum(i -> rate, 0.0, false);
        BarrierSegment.Start start = BarrierSegment.Start.of(model, sgd, 0);
        try (BarrierSegment segment = new BarrierSegment(BarrierRuns.module(model), SegmentedTrainingTest.data(), 16,
                BarrierRuns.classNll(), sgd).parameterProcessor(lars)) {
            return BarrierRuns.tensors(model, segment.run(start, 1).weights());
        }
    }

    @Test
    void scalesEachWeightTensorByItsTrustRatioAndLeavesBiasesAlone() {
        float[][] start = ModuleParameters.snapshot(SegmentedTrainingTest.model());
        List<float[]> plain = oneStep(SegmentedTrainingTest.model(), 1.0, null); // w - g: reveals the gradient
        double eta = 0.01;
        double wd = 0.1;
        double lr = 0.5;
        Sequential<Float> model = SegmentedTrainingTest.model();
        model.getParameters();
        List<DecoupledWeightDecay.Range> weights = List.of(
                DecoupledWeightDecay.rangeOf(ModuleParameters.weights(model).get(0), i -> 0),
                DecoupledWeightDecay.rangeOf(ModuleParameters.weights(model).get(2), i -> 0));
        List<float[]> lars = oneStep(model, lr, new LarsAdaptation(eta, wd, weights));

        for (int t = 0; t < start.length; t++) {
            boolean adapted = t == 0 || t == 2;
            double ww = 0;
            double uu = 0;
            for (int i = 0; i < start[t].length; i++) {
                double g = start[t][i] - plain.get(t)[i];
                double u = g + wd * start[t][i];
                ww += start[t][i] * start[t][i];
                uu += u * u;
            }
            double trust = eta * Math.sqrt(ww) / Math.sqrt(uu);
            double worst = 0;
            for (int i = 0; i < start[t].length; i++) {
                double g = start[t][i] - plain.get(t)[i];
                double expected = adapted ? start[t][i] - lr * trust * (g + wd * start[t][i])
                        : start[t][i] - lr * g;
                worst = Math.max(worst, Math.abs(expected - lars.get(t)[i]));
            }
            assertTrue(worst < 1e-6, "tensor " + t + " differs from the hand-computed LARS step by " + worst);
            if (adapted) {
                assertTrue(trust < 0.5, "the trust ratio should matter here: " + trust);
            }
        }
        assertEquals(4, start.length);
    }
}
