package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The all-gather's message encoding; the exchange itself is proven in real barrier stages by BarrierNtXentTest. */
class BarrierAllGatherTest {
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
