package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

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
}
