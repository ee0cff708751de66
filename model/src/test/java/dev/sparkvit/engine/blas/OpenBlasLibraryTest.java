package dev.sparkvit.engine.blas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OpenBlasLibraryTest {
    @Test
    void defaultsToDebiansSerialBuild() {
        assertEquals(OpenBlasLibrary.DEBIAN_SERIAL, OpenBlasLibrary.configured(k -> null, k -> null));
    }

    @Test
    void propertyThenEnvironment() {
        Map<String, String> env = Map.of("SPARKVIT_OPENBLAS_LIBRARY", "/opt/b/libblas.so");
        assertEquals(Path.of("/opt/a/libblas.so"), OpenBlasLibrary.configured(
                Map.of("sparkvit.openblas.library", "/opt/a/libblas.so")::get, env::get));
        assertEquals(Path.of("/opt/b/libblas.so"), OpenBlasLibrary.configured(k -> null, env::get));
    }

    @Test
    void aRelativePathNamesTheSettingAndValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OpenBlasLibrary.configured(
                k -> null, Map.of("SPARKVIT_OPENBLAS_LIBRARY", "libblas.so.3")::get));
        assertTrue(e.getMessage().startsWith("SPARKVIT_OPENBLAS_LIBRARY=libblas.so.3:"), e.getMessage());
    }

    @Test
    void aMissingFileFailsClearly() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> OpenBlasSgemm.load(Path.of("/nonexistent/libblas.so.3")));
        assertTrue(e.getMessage().contains("/nonexistent/libblas.so.3 not found"), e.getMessage());
        assertTrue(e.getMessage().contains("submit/openblas.sh"), e.getMessage());
    }
}
