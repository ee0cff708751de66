package dev.sparkvit.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class VitBenchSettingsTest {

    private static String error(Runnable bad) {
        return assertThrows(IllegalArgumentException.class, bad::run).getMessage();
    }

    @Test
    void unknownPresetNamesTheKnownOnes() {
        String message = error(() -> new VitBenchSettings("vit_huge", 8, 4, 3, 2, 10, 42));
        assertTrue(message.contains("known presets") && message.contains("vit_tiny_patch4_32"), message);
    }

    @Test
    void countsMustBePositive() {
        assertTrue(error(() -> new VitBenchSettings("vit_tiny_patch4_32", 0, 4, 3, 2, 10, 1)).contains("--batch"));
        assertTrue(error(() -> new VitBenchSettings("vit_tiny_patch4_32", 8, 0, 3, 2, 10, 1)).contains("--steps"));
        assertTrue(error(() -> new VitBenchSettings("vit_tiny_patch4_32", 8, 4, 3, -1, 10, 1)).contains("--warmup"));
    }

    /** A tiny run trains (finite loss, positive rates); no assertion on speed. */
    @Test
    void aStepRunTrainsTheNanoPreset() {
        VitStepBenchmark bench = new VitStepBenchmark(new VitBenchSettings("vit_nano_patch4_32", 2, 1, 2, 1, 3, 7));
        float first = bench.step();
        assertTrue(Float.isFinite(first));
        double[] rates = bench.run();
        assertEquals(2, rates.length);
        for (double rate : rates) {
            assertTrue(rate > 0 && Double.isFinite(rate));
        }
    }
}
