package dev.sparkvit.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.bench.VitBenchSettings.Mode;
import org.junit.jupiter.api.Test;

class VitBenchSettingsTest {

    private static VitBenchSettings settings(String model, int batch, int threads, Mode mode) {
        return new VitBenchSettings(model, batch, threads, 4, 3, 2, 10, mode, 42);
    }

    private static String error(Runnable bad) {
        return assertThrows(IllegalArgumentException.class, bad::run).getMessage();
    }

    @Test
    void unknownPresetNamesTheKnownOnes() {
        String message = error(() -> settings("vit_huge", 8, 1, Mode.STEP));
        assertTrue(message.contains("known presets") && message.contains("vit_tiny_patch4_32"), message);
    }

    @Test
    void distriBatchMustSplitEvenlyOverTheThreads() {
        String message = error(() -> settings("vit_tiny_patch4_32", 9, 2, Mode.DISTRI));
        assertTrue(message.contains("--batch 9") && message.contains("--threads 2"), message);
        assertEquals(2, settings("vit_tiny_patch4_32", 8, 2, Mode.DISTRI).threads());
    }

    @Test
    void stepModeIsSingleThreaded() {
        String message = error(() -> settings("vit_tiny_patch4_32", 8, 2, Mode.STEP));
        assertTrue(message.contains("--mode distri"), message);
    }

    @Test
    void countsMustBePositive() {
        assertTrue(error(() -> settings("vit_tiny_patch4_32", 0, 1, Mode.STEP)).contains("--batch"));
        assertTrue(error(() -> new VitBenchSettings("vit_tiny_patch4_32", 8, 1, 0, 3, 2, 10, Mode.STEP, 1))
                .contains("--steps"));
        assertTrue(error(() -> new VitBenchSettings("vit_tiny_patch4_32", 8, 1, 4, 3, -1, 10, Mode.STEP, 1))
                .contains("--warmup"));
    }

    /** Per-iteration throughputs 8, 16, 16 and 32 images/s at batch 8: blocks of 2 after one warm-up iteration. */
    @Test
    void distriBlocksAreImagesOverTheSumOfIterationTimes() {
        VitBenchSettings s = new VitBenchSettings("vit_tiny_patch4_32", 8, 2, 2, 1, 1, 10, Mode.DISTRI, 1);
        // timed iterations take 0.5 s and 0.5 s: 16 images in 1 s
        assertArrayEquals(new double[] {16.0}, VitDistriBenchmark.blockRates(new float[] {8, 16, 16}, s), 1e-9);
        VitBenchSettings two = new VitBenchSettings("vit_tiny_patch4_32", 8, 2, 1, 2, 1, 10, Mode.DISTRI, 1);
        assertArrayEquals(new double[] {16.0, 32.0}, VitDistriBenchmark.blockRates(new float[] {8, 16, 32}, two),
                1e-9);
    }

    /** A tiny step-mode run trains (finite loss, positive rates); no assertion on speed. */
    @Test
    void stepModeRunsOnTheNanoPreset() {
        VitStepBenchmark bench = new VitStepBenchmark(
                new VitBenchSettings("vit_nano_patch4_32", 2, 1, 1, 2, 1, 3, Mode.STEP, 7));
        float first = bench.step();
        assertTrue(Float.isFinite(first));
        double[] rates = bench.run();
        assertEquals(2, rates.length);
        for (double rate : rates) {
            assertTrue(rate > 0 && Double.isFinite(rate));
        }
    }
}
