package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.testing.SharedSpark;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The all-gather's message encoding, and many rounds in a real barrier stage (BarrierNtXentTest proves the NT-Xent
 * exchange on top of it).
 */
@ExtendWith(SharedSpark.class)
class BarrierAllGatherTest {
    @Test
    void manyRoundsInOneBarrierStageEachGiveEveryTasksArrayInTaskOrderWithinMilliseconds() {
        int rounds = 20;
        long start = System.nanoTime();
        List<float[]> seen = BarrierStage.collect(SharedSpark.context().parallelize(List.of(10, 20), 2), partition -> {
            int base = partition.next();
            BarrierAllGather exchange = BarrierAllGather.current();
            float[] all = new float[rounds * 2 * 3];
            for (int r = 0; r < rounds; r++) {
                // each round a different array per task, and of a different length per task in odd rounds
                float[] mine = r % 2 == 0 ? new float[] {base, r, exchange.task()} : new float[] {base + r};
                float[][] got = exchange.floats(mine);
                assertEquals(2, got.length);
                for (int t = 0; t < 2; t++) {
                    System.arraycopy(got[t], 0, all, (r * 2 + t) * 3, got[t].length);
                }
            }
            return all;
        }, float[].class);
        double seconds = (System.nanoTime() - start) / 1e9;
        for (float[] all : seen) {
            for (int r = 0; r < rounds; r++) {
                for (int t = 0; t < 2; t++) {
                    int base = 10 * (t + 1);
                    float[] expected = r % 2 == 0 ? new float[] {base, r, t} : new float[] {base + r, 0, 0};
                    assertArrayEquals(expected, Arrays.copyOfRange(all, (r * 2 + t) * 3, (r * 2 + t + 1) * 3),
                            "round " + r + ", task " + t);
                }
            }
        }
        // Spark 3.1 alone polls for each answer once a second: 40 calls (with local mode's fences) would take 40 s
        assertTrue(seconds < 10, rounds + " rounds took " + seconds + " s");
    }

    @Test
    void floatsTravelAsBase64OfTheirLittleEndianBytesBitForBit() {
        // 1.0f is 0x3F800000: bytes 00 00 80 3F
        assertEquals("AACAPw==", BarrierAllGather.encode(new float[] {1f}));
        float[] values = {0f, -0f, Float.MIN_VALUE, -3.25f, Float.MAX_VALUE, Float.NaN, Float.NEGATIVE_INFINITY};
        float[] back = BarrierAllGather.decodeFloats(BarrierAllGather.encode(values));
        assertEquals(values.length, back.length);
        for (int i = 0; i < values.length; i++) {
            assertEquals(Float.floatToRawIntBits(values[i]), Float.floatToRawIntBits(back[i]), "value " + i);
        }
        assertArrayEquals(new float[0], BarrierAllGather.decodeFloats(BarrierAllGather.encode(new float[0])));
    }

    @Test
    void doublesToo() {
        assertEquals("AAAAAAAA8D8=", BarrierAllGather.encode(new double[] {1.0}));
        double[] values = {Math.PI, -0.0, Double.MIN_VALUE, 1e300, Double.NaN};
        double[] back = BarrierAllGather.decodeDoubles(BarrierAllGather.encode(values));
        for (int i = 0; i < values.length; i++) {
            assertEquals(Double.doubleToRawLongBits(values[i]), Double.doubleToRawLongBits(back[i]), "value " + i);
        }
    }

    @Test
    void aBatchOf4096ImagesAt128DimensionsIsAbout5AndAHalfMegabytesOfText() {
        int length = BarrierAllGather.encode(new float[2 * 4096 * 128]).length();
        assertEquals(4 * ((2 * 4096 * 128 * 4 + 2) / 3), length);
        assertEquals(5.6, length / 1e6, 0.05);
    }
}
