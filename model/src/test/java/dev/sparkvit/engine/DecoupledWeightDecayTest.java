package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The decay multiplies exactly the decayed elements inside a partition's chunk by {@code 1 - lr * wd} at their
 * group's rate of the iteration; {@link DecoupledWeightDecay#everySteps} decays only on the iterations where
 * {@link GradientAccumulation} steps ({@code (t + 1) % k == 0}), at the rate of step {@code t / k}.
 */
class DecoupledWeightDecayTest {
    @Test
    void decaysOnlyTheRangesInsideTheChunkAtTheirGroupsRate() {
        // flat elements 0..9; decayed: [2, 5) at rate 0.5 and [7, 9) at rate 0 (frozen); this chunk holds 4..9
        DecoupledWeightDecay decay = new DecoupledWeightDecay(0.1, List.of(
                new DecoupledWeightDecay.Range(2, 3, i -> 0.5),
                new DecoupledWeightDecay.Range(7, 2, i -> 0.0)));
        float[] values = {4, 5, 6, 7, 8, 9};
        var chunk = Tensors.of(values.clone(), 6);
        decay.apply(chunk, 4, 0);
        float f = (float) (1 - 0.5 * 0.1);
        assertArrayEquals(new float[] {4 * f, 5, 6, 7, 8, 9}, Tensors.data(chunk));
    }

    @Test
    void usesTheRateOfTheIteration() {
        DecoupledWeightDecay decay = new DecoupledWeightDecay(0.5, List.of(
                new DecoupledWeightDecay.Range(0, 2, i -> i == 3 ? 0.2 : 1.0)));
        var chunk = Tensors.of(new float[] {10, 20}, 2);
        decay.apply(chunk, 0, 3);
        float f = (float) (1 - 0.2 * 0.5);
        assertArrayEquals(new float[] {10 * f, 20 * f}, Tensors.data(chunk));
    }

    @Test
    void rejectsNegativeDecayAndEmptyRanges() {
        assertThrows(IllegalArgumentException.class, () -> new DecoupledWeightDecay(-1, List.of()));
        assertThrows(IllegalArgumentException.class, () -> new DecoupledWeightDecay.Range(0, 0, i -> 1));
    }

    @Test
    void everyStepsDecaysOnlyOnSteppingIterationsAtTheStepsRate() {
        // flat elements 0..5, decayed [1, 3) at step rate 0.1 (s + 1) and [4, 5) frozen until step 1; the chunk is 0..5
        List<Long> asked = new ArrayList<>();
        DecoupledWeightDecay.Rate rising = s -> {
            asked.add(s);
            return 0.1 * (s + 1);
        };
        DecoupledWeightDecay decay = new DecoupledWeightDecay(0.5, List.of(
                new DecoupledWeightDecay.Range(1, 2, rising),
                new DecoupledWeightDecay.Range(4, 1, s -> s == 0 ? 0.0 : 0.3))).everySteps(3);
        float[] expected = {1, 2, 3, 4, 5, 6};
        var chunk = Tensors.of(expected.clone(), 6);
        for (long t = 0; t < 9; t++) {
            decay.apply(chunk, 0, t);
            if (t % 3 == 2) { // iterations 2, 5, 8 step: steps 0, 1, 2
                long step = t / 3;
                float f = (float) (1 - 0.1 * (step + 1) * 0.5);
                expected[1] *= f;
                expected[2] *= f;
                if (step > 0) {
                    expected[4] *= (float) (1 - 0.3 * 0.5);
                }
            }
            assertArrayEquals(expected, Tensors.data(chunk), "after iteration " + t);
        }
        assertEquals(List.of(0L, 1L, 2L), asked, "the rate is asked for steps, only on stepping iterations");
    }

    @Test
    void everyStepsRespectsTheChunkOffsetAndKeepsTheDecayAndRanges() {
        List<DecoupledWeightDecay.Range> ranges = List.of(new DecoupledWeightDecay.Range(3, 4, s -> s == 1 ? 0.2 : 1));
        DecoupledWeightDecay every = new DecoupledWeightDecay(0.25, ranges);
        DecoupledWeightDecay accumulated = every.everySteps(2);
        assertEquals(0.25, accumulated.weightDecay());
        assertEquals(ranges, accumulated.ranges());
        // the chunk holds flat elements 5..7: only 5 and 6 are decayed
        var chunk = Tensors.of(new float[] {10, 20, 30}, 3);
        accumulated.apply(chunk, 5, 2); // not a stepping iteration
        assertArrayEquals(new float[] {10, 20, 30}, Tensors.data(chunk));
        accumulated.apply(chunk, 5, 3); // step 1, rate 0.2
        float f = (float) (1 - 0.2 * 0.25);
        assertArrayEquals(new float[] {10 * f, 20 * f, 30}, Tensors.data(chunk));
        // the original still decays every iteration, at the iteration's rate
        var other = Tensors.of(new float[] {10, 20, 30}, 3);
        every.apply(other, 5, 2);
        float g = (float) (1 - 1 * 0.25);
        assertArrayEquals(new float[] {10 * g, 20 * g, 30}, Tensors.data(other));
    }

    @Test
    void everyOneStepIsThePlainDecay() {
        List<DecoupledWeightDecay.Range> ranges = List.of(new DecoupledWeightDecay.Range(0, 3, s -> 0.1 + s * 0.05));
        DecoupledWeightDecay plain = new DecoupledWeightDecay(0.3, ranges);
        DecoupledWeightDecay one = plain.everySteps(1);
        var a = Tensors.of(new float[] {1, -2, 3}, 3);
        var b = Tensors.of(new float[] {1, -2, 3}, 3);
        for (long t = 0; t < 4; t++) {
            plain.apply(a, 0, t);
            one.apply(b, 0, t);
            assertArrayEquals(Tensors.data(a), Tensors.data(b), "iteration " + t);
        }
        assertNotEquals(1f, Tensors.data(a)[0], "decayed");
    }

    @Test
    void everyStepsRejectsFewerThanOne() {
        DecoupledWeightDecay decay = new DecoupledWeightDecay(0.1, List.of());
        assertThrows(IllegalArgumentException.class, () -> decay.everySteps(0));
        assertThrows(IllegalArgumentException.class, () -> decay.everySteps(-1));
    }
}
