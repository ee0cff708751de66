package dev.sparkvit.engine.blas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class BlasBackendTest {
    private static BlasBackend configured(Map<String, String> properties, Map<String, String> environment) {
        return BlasBackend.configured(properties::get, environment::get);
    }

    @Test
    void unsetOrBlankIsMkl() {
        assertEquals(BlasBackend.MKL, configured(Map.of(), Map.of()));
        assertEquals(BlasBackend.MKL, configured(Map.of("sparkvit.blas", " "), Map.of("SPARKVIT_BLAS", "")));
    }

    @Test
    void namesAreCaseInsensitiveAndTrimmed() {
        assertEquals(BlasBackend.MKL, configured(Map.of("sparkvit.blas", "MKL"), Map.of()));
        assertEquals(BlasBackend.OPENBLAS, configured(Map.of(), Map.of("SPARKVIT_BLAS", " openblas ")));
        assertEquals(BlasBackend.AUTO, configured(Map.of(), Map.of("SPARKVIT_BLAS", "auto")));
    }

    @Test
    void thePropertyWinsOverTheEnvironment() {
        assertEquals(BlasBackend.MKL, configured(Map.of("sparkvit.blas", "mkl"), Map.of("SPARKVIT_BLAS", "openblas")));
    }

    @Test
    void anUnknownPropertyValueNamesThePropertyAndTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> configured(Map.of("sparkvit.blas", "cublas"), Map.of("SPARKVIT_BLAS", "mkl")));
        assertTrue(e.getMessage().startsWith("sparkvit.blas=cublas:"), e.getMessage());
        assertTrue(e.getMessage().contains("auto, mkl or openblas"), e.getMessage());
    }

    @Test
    void anUnknownEnvironmentValueNamesTheVariable() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> configured(Map.of(), Map.of("SPARKVIT_BLAS", "open-blas")));
        assertTrue(e.getMessage().startsWith("SPARKVIT_BLAS=open-blas:"), e.getMessage());
    }
}
