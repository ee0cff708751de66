package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.model.optim.AdamW;
import dev.sparkvit.model.optim.LearningRateSchedule;
import dev.sparkvit.testing.TestTensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import scala.Tuple2;
import scala.runtime.AbstractFunction1;

/**
 * {@link GradientAccumulation} around {@link AdamW}, against plain AdamW fed the means by hand: the calls between
 * steps leave the weights bit for bit alone, every {@code steps}-th call equals one plain AdamW step on the mean of the
 * group's gradients (the mean, not the sum or the last gradient: AdamW here has a large eps, so the step depends on
 * the gradient's scale), the wrapped schedule advances once per step, and {@code step()}/{@code buffers()} restored
 * into a fresh instance continue exactly as the uninterrupted one, mid-group and after several steps.
 */
class GradientAccumulationTest {
    /**
     * A large eps makes AdamW's step depend on the gradient's scale (with eps ~ 0 the first steps are lr * sign(g)
     * whatever the scale), so a sum instead of the mean would show. Weight decay 0.1 shows a decay per call.
     */
    private static AdamW adamW(LearningRateSchedule schedule) {
        return new AdamW(schedule, 0.9, 0.999, 0.5, 0.1);
    }

    private static final LearningRateSchedule SCHEDULE = i -> 0.1 / (1 + i);

    /** An evaluation returning a fixed gradient, whatever the parameters. */
    private static final class Fixed extends AbstractFunction1<Tensor<Float>, Tuple2<Float, Tensor<Float>>> {
        private final float[] gradient;

        Fixed(float[] gradient) {
            this.gradient = gradient;
        }

        @Override
        public Tuple2<Float, Tensor<Float>> apply(Tensor<Float> p) {
            return new Tuple2<>(0f, Tensors.of(gradient.clone(), gradient.length));
        }
    }

    /** The gradient of call k: depends on the parameters (2 p - 1) and on k, so every call sees a different one. */
    private static final class Varying extends AbstractFunction1<Tensor<Float>, Tuple2<Float, Tensor<Float>>> {
        private final int call;

        Varying(int call) {
            this.call = call;
        }

        @Override
        public Tuple2<Float, Tensor<Float>> apply(Tensor<Float> p) {
            float[] values = Tensors.toArray(p);
            float[] grad = new float[values.length];
            for (int i = 0; i < values.length; i++) {
                grad[i] = 2 * values[i] - 1 + (float) Math.sin(call * 1.7 + i);
            }
            return new Tuple2<>(0f, Tensors.of(grad, values.length));
        }
    }

    private static Tensor<Float> parameters() {
        return Tensors.of(new float[] {0.5f, -1.0f, 2.0f, 0.25f}, 4);
    }

    private static float[] gradient(int k) {
        float[] g = new float[4];
        for (int i = 0; i < 4; i++) {
            g[i] = (float) (Math.cos(k * 2.3 + i * 0.9) * (1 + k));
        }
        return g;
    }

    private static float[] mean(float[]... gradients) {
        float[] sum = new float[gradients[0].length];
        for (float[] g : gradients) {
            for (int i = 0; i < sum.length; i++) {
                sum[i] += g[i];
            }
        }
        for (int i = 0; i < sum.length; i++) {
            sum[i] /= gradients.length;
        }
        return sum;
    }

    @Test
    void twoCallsEqualOnePlainStepOnTheMeanGradient() {
        float[] g1 = gradient(1);
        float[] g2 = gradient(2);
        Tensor<Float> p = parameters();
        float[] initial = Tensors.toArray(p);
        GradientAccumulation<AdamW> accumulated = new GradientAccumulation<>(adamW(SCHEDULE), 2);

        accumulated.optimize(new Fixed(g1), p);
        assertArrayEquals(initial, Tensors.toArray(p), "the first call of a group must not touch the weights");
        assertEquals(1, accumulated.step());
        assertEquals(0, accumulated.inner().step(), "the wrapped method has not stepped yet");

        accumulated.optimize(new Fixed(g2), p);
        Tensor<Float> reference = parameters();
        AdamW plain = adamW(SCHEDULE);
        plain.optimize(new Fixed(mean(g1, g2)), reference);
        float[] expected = Tensors.toArray(reference);
        assertArrayEquals(expected, Tensors.toArray(p), 1e-7f, "one AdamW step on (g1 + g2) / 2");
        assertEquals(2, accumulated.step());
        assertEquals(1, accumulated.inner().step());

        // the comparison can tell the mean from the sum and from either gradient alone
        for (float[] wrong : new float[][] {sum(g1, g2), g1, g2}) {
            Tensor<Float> other = parameters();
            adamW(SCHEDULE).optimize(new Fixed(wrong), other);
            assertTrue(TestTensors.maxAbsDiff(expected, Tensors.toArray(other)) > 1e-4f,
                    "a step on another gradient must land elsewhere");
        }
        assertTrue(TestTensors.maxAbsDiff(initial, expected) > 1e-3f, "the step moved the weights");
    }

    private static float[] sum(float[] a, float[] b) {
        float[] s = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            s[i] = a[i] + b[i];
        }
        return s;
    }

    @Test
    void threeStepsOverSixCallsEqualTwoPlainStepsAndTheScheduleCountsSteps() {
        List<Long> asked = new ArrayList<>();
        LearningRateSchedule recording = i -> {
            asked.add(i);
            return SCHEDULE.rate(i);
        };
        GradientAccumulation<AdamW> accumulated = new GradientAccumulation<>(adamW(recording), 3);
        Tensor<Float> p = parameters();
        AdamW plain = adamW(SCHEDULE);
        Tensor<Float> reference = parameters();
        float[][] g = new float[6][];
        for (int k = 0; k < 6; k++) {
            g[k] = gradient(k);
        }
        float[] before = Tensors.toArray(p);
        for (int k = 0; k < 6; k++) {
            accumulated.optimize(new Fixed(g[k]), p);
            if (k % 3 != 2) {
                assertArrayEquals(before, Tensors.toArray(p), "call " + k + " must leave the weights alone");
                continue;
            }
            plain.optimize(new Fixed(mean(g[k - 2], g[k - 1], g[k])), reference);
            assertArrayEquals(Tensors.toArray(reference), Tensors.toArray(p), 1e-7f, "after call " + k);
            assertFalse(Arrays.equals(before, Tensors.toArray(p)), "call " + k + " stepped");
            before = Tensors.toArray(p);
            long stepIndex = k / 3;
            assertEquals(SCHEDULE.rate(stepIndex), accumulated.getLearningRate(), 1e-15,
                    "the rate of step " + stepIndex);
        }
        assertEquals(List.of(0L, 1L), asked, "the wrapped schedule is asked once per step, in steps");
        assertEquals(6, accumulated.step());
        assertEquals(2, accumulated.inner().step());
    }

    @Test
    void oneStepIsPlainAdamW() {
        GradientAccumulation<AdamW> accumulated = new GradientAccumulation<>(adamW(SCHEDULE), 1);
        AdamW plain = adamW(SCHEDULE);
        Tensor<Float> p = parameters();
        Tensor<Float> reference = parameters();
        for (int k = 0; k < 5; k++) {
            accumulated.optimize(new Varying(k), p);
            plain.optimize(new Varying(k), reference);
            assertArrayEquals(Tensors.toArray(reference), Tensors.toArray(p), "call " + k);
        }
    }

    /** Runs {@code calls} calls of gradient accumulation over 2 from call {@code from}, on {@code p}. */
    private static void run(GradientAccumulation<AdamW> method, Tensor<Float> p, int from, int calls) {
        for (int k = from; k < calls; k++) {
            method.optimize(new Varying(k), p);
        }
    }

    @Test
    void restoredStateContinuesAsTheUninterruptedInstance() {
        int total = 9;
        Tensor<Float> whole = parameters();
        run(new GradientAccumulation<>(adamW(SCHEDULE), 2), whole, 0, total);
        float[] expected = Tensors.toArray(whole);
        assertTrue(TestTensors.maxAbsDiff(expected, Tensors.toArray(parameters())) > 1e-3f);

        // 1: inside the first group (no AdamW state yet); 4: right after two steps; 5: inside a group after two steps
        for (int stop : new int[] {1, 4, 5}) {
            Tensor<Float> p = parameters();
            GradientAccumulation<AdamW> first = new GradientAccumulation<>(adamW(SCHEDULE), 2);
            run(first, p, 0, stop);
            long step = first.step();
            Map<String, float[]> buffers = first.buffers();
            assertEquals(stop, step, "step() counts calls");
            assertTrue(buffers.containsKey("accumulated_grad"), "the partial sum is part of the state");
            assertEquals(stop >= 2, buffers.containsKey("exp_avg"), "AdamW's moments are part of the state");

            GradientAccumulation<AdamW> second = new GradientAccumulation<>(adamW(SCHEDULE), 2);
            second.restore(step, buffers);
            assertEquals(stop / 2, second.inner().step(), "the wrapped method is restored at step / steps");
            assertEquals(stop, second.step());
            Tensor<Float> continued = Tensors.of(Tensors.toArray(p), 4);
            run(second, continued, stop, total);
            assertArrayEquals(expected, Tensors.toArray(continued), "resumed after call " + stop);
        }
    }

    @Test
    void restoringWithoutThePartialSumWouldBeCaught() {
        // the round trip above is not vacuous: dropping the accumulated gradient at call 1 changes the result
        Tensor<Float> whole = parameters();
        run(new GradientAccumulation<>(adamW(SCHEDULE), 2), whole, 0, 4);
        Tensor<Float> p = parameters();
        GradientAccumulation<AdamW> first = new GradientAccumulation<>(adamW(SCHEDULE), 2);
        run(first, p, 0, 1);
        Map<String, float[]> buffers = new java.util.LinkedHashMap<>(first.buffers());
        buffers.remove("accumulated_grad");
        GradientAccumulation<AdamW> second = new GradientAccumulation<>(adamW(SCHEDULE), 2);
        second.restore(first.step(), buffers);
        run(second, p, 1, 4);
        assertTrue(TestTensors.maxAbsDiff(Tensors.toArray(whole), Tensors.toArray(p)) > 1e-5f);
    }

    @Test
    void clearHistoryStartsAGroupAfresh() {
        GradientAccumulation<AdamW> used = new GradientAccumulation<>(adamW(SCHEDULE), 2);
        run(used, parameters(), 0, 3);
        used.clearHistory();
        assertEquals(0, used.step());
        assertEquals(Map.of(), used.buffers());
        Tensor<Float> p = parameters();
        run(used, p, 0, 4);
        Tensor<Float> fresh = parameters();
        run(new GradientAccumulation<>(adamW(SCHEDULE), 2), fresh, 0, 4);
        assertArrayEquals(Tensors.toArray(fresh), Tensors.toArray(p));
    }

    @Test
    void survivesDllibsCloneWithItsPartialSum() {
        // DistriOptimizer gives every partition a serialized copy of the driver's method
        GradientAccumulation<AdamW> original = new GradientAccumulation<>(adamW(SCHEDULE), 2);
        Tensor<Float> p = parameters();
        run(original, p, 0, 3);
        @SuppressWarnings("unchecked")
        GradientAccumulation<AdamW> copy = (GradientAccumulation<AdamW>) original.clone();
        Tensor<Float> q = Tensors.of(Tensors.toArray(p), 4);
        run(original, p, 3, 6);
        run(copy, q, 3, 6);
        assertArrayEquals(Tensors.toArray(p), Tensors.toArray(q));
    }

    @Test
    void rejectsFewerThanOneStep() {
        assertThrows(IllegalArgumentException.class, () -> new GradientAccumulation<>(adamW(SCHEDULE), 0));
        assertThrows(IllegalArgumentException.class, () -> new GradientAccumulation<>(adamW(SCHEDULE), -2));
    }
}
