package dev.sparkvit.jobs.retrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry's JSON files are read back on every retrain run; one edited to nest thousands of levels deep must be
 * a clear error naming it (Spark's Jackson 2.10 has no nesting limit and overflowed the stack), not a
 * StackOverflowError. Pointers leading out of the registry are ModelRegistryTest's.
 */
class ModelRegistryTamperingTest {

    private static void nest(Path file) throws IOException {
        int depth = 100_000;
        Files.writeString(file, "{\"key\":" + "[".repeat(depth) + "]".repeat(depth) + "}", StandardCharsets.UTF_8);
    }

    @Test
    void aDeeplyNestedFileOfAnOlderVersionIsSkippedAndNamed(@TempDir Path tmp) throws IOException {
        ModelRegistry registry = RegistryFixture.registry(tmp.resolve("registry"), 2);
        Path info = registry.versionDir("v0001").resolve("version.json");
        nest(info);
        Map<String, String> before = RegistryFixture.snapshot(tmp);
        assertEquals(Optional.empty(), registry.findByKey("key-1"), "a damaged version is never matched");
        List<String> warnings = new ArrayList<>();
        registry.check(warnings::add);
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains(info.toString()) && warnings.get(0).contains("nested deeper than"),
                warnings.get(0));
        assertEquals(before, RegistryFixture.snapshot(tmp), "nothing changed");
    }

    @Test
    void aDeeplyNestedFileOfTheProductionVersionStopsTheRunNamingIt(@TempDir Path tmp) throws IOException {
        ModelRegistry registry = RegistryFixture.registry(tmp.resolve("registry"), 2);
        Path metrics = registry.versionDir("v0002").resolve("metrics.json");
        nest(metrics);
        CorruptRegistryException e = assertThrows(CorruptRegistryException.class, () -> registry.check(line -> { }));
        assertTrue(e.getMessage().contains(metrics.toString()) && e.getMessage().contains("nested deeper than"),
                e.getMessage());
        assertEquals(-1, e.getMessage().indexOf('\n'), "one line: " + e.getMessage());
    }
}
