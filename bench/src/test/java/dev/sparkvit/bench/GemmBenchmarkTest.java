package dev.sparkvit.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sparkvit.engine.blas.MklSgemm;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GemmBenchmarkTest {
    @Test
    void oneMeasurementPerSizeAndBackendWithTheRequestedSamples() {
        List<Measurement> results = new GemmBenchmark(List.of(8, 16), 3, 1).run(List.of(MklSgemm.INSTANCE));
        assertEquals(2, results.size());
        Measurement first = results.get(0);
        assertEquals("sgemm", first.name());
        assertEquals("mkl", first.impl());
        assertEquals(1, first.threads());
        assertEquals("GFLOP/s", first.unit());
        assertEquals(Map.of("n", 8), first.params());
        assertEquals(3, first.samples().length);
        assertEquals(Map.of("n", 16), results.get(1).params());
    }

    @Test
    void badSettingsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new GemmBenchmark(List.of(0), 3, 1));
        assertThrows(IllegalArgumentException.class, () -> new GemmBenchmark(List.of(8), 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new GemmBenchmark(List.of(), 3, 1));
    }
}
