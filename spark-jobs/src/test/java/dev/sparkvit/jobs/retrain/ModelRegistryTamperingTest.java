package dev.sparkvit.jobs.retrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry's files are read back on every retrain run; an edited or damaged file must not lead outside the
 * registry (the production pointer names the warm start and the model the candidate is scored against) and must
 * be a clear error, not a StackOverflowError.
 */
class ModelRegistryTamperingTest {

    private static ModelRegistry registryWithOneVersion(Path tmp) throws IOException {
        Path model = Files.writeString(tmp.resolve("finetuned.safetensors"), "weights");
        ModelRegistry registry = new ModelRegistry(tmp.resolve("registry"));
        String version = registry.register(List.of(model), Map.of("key", "k1", "status", "promoted"));
        registry.promote(version);
        return registry;
    }

    @Test
    void theProductionPointerCannotNameAFolderOutsideTheRegistry(@TempDir Path tmp) throws IOException {
        ModelRegistry registry = registryWithOneVersion(tmp);
        assertEquals(Optional.of("v0001"), registry.production());
        // a folder outside the registry that looks like a version
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("finetuned.safetensors"), "someone else's weights");
        Path pointer = registry.root().resolve("production");
        for (String hostile : List.of("../../outside", outside.toString(), "v0001/../../../outside",
                "../versions/v0001", "v0001\n../../outside")) {
            Files.writeString(pointer, hostile + "\n", StandardCharsets.UTF_8);
            IllegalStateException e = assertThrows(IllegalStateException.class, registry::production, hostile);
            assertTrue(e.getMessage().contains("not a version name"), e.getMessage());
            assertTrue(e.getMessage().contains(pointer.toString()), e.getMessage());
            assertEquals(-1, e.getMessage().indexOf('\n'), "one line: " + e.getMessage());
        }
        Files.writeString(pointer, "v0001\n", StandardCharsets.UTF_8);
        assertEquals(Optional.of("v0001"), registry.production(), "a valid pointer still works");
    }

    @Test
    void aDeeplyNestedVersionFileIsAnErrorNamingItNotAStackOverflow(@TempDir Path tmp) throws IOException {
        ModelRegistry registry = registryWithOneVersion(tmp);
        Path info = registry.versionDir("v0001").resolve("version.json");
        int depth = 100_000;
        Files.writeString(info, "{\"key\":" + "[".repeat(depth) + "]".repeat(depth) + "}", StandardCharsets.UTF_8);
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> registry.findByKey("k1"));
        assertTrue(e.getMessage().contains(info.toString()), e.getMessage());
        assertTrue(e.getCause().getMessage().contains("nested deeper than"), e.getCause().getMessage());
    }
}
