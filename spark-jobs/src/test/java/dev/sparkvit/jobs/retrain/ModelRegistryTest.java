package dev.sparkvit.jobs.retrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A registry's files damaged in real ways: the production pointer, version.json, metrics.json and the production
 * model. Each gives one line naming the file (and what to do) or a documented safe behaviour, and no registered
 * version or pointer is ever changed by the registry's code.
 */
class ModelRegistryTest {

    private static void assertOneLineNaming(RuntimeException e, Path file, String what) {
        String m = e.getMessage();
        assertTrue(m.contains(file.toString()) && m.contains(what), "names " + file + " and says '" + what + "': "
                + m);
        assertTrue(!m.contains("\n") && m.length() < 800, "one line: " + m);
    }

    @Test
    void aDamagedProductionPointerIsNamedWithWhatToDoAndNeverFollowedOutOfTheRegistry(@TempDir Path tmp)
            throws Exception {
        Path root = tmp.resolve("registry");
        ModelRegistry registry = RegistryFixture.registry(root, 2);
        Path pointer = root.resolve("production");
        Files.createDirectories(tmp.resolve("x"));
        Map<String, byte[]> cases = new LinkedHashMap<>();
        cases.put("garbage", "hello world\n".getBytes());
        cases.put("empty", new byte[0]);
        cases.put("blank", " \n\n".getBytes());
        cases.put("binary", new byte[] {0, (byte) 0xff, 0x1b, '[', '2', 'J'});
        cases.put("missing version", "v0009\n".getBytes());
        cases.put("escape", "../../x".getBytes());
        cases.put("escape after a version", "v0001/../../x".getBytes());
        cases.put("absolute", tmp.resolve("x").toString().getBytes());
        cases.put("huge", new byte[100_000]);
        Map<String, String> expected = Map.of("garbage", "holds 'hello world', not a version name", "empty",
                "is empty", "blank", "is empty", "missing version", "names v0009, which is not in",
                "huge", "holds 100000 bytes");
        for (Map.Entry<String, byte[]> c : cases.entrySet()) {
            Files.write(pointer, c.getValue());
            Map<String, String> before = RegistryFixture.snapshot(tmp);
            CorruptRegistryException e = assertThrows(CorruptRegistryException.class, registry::production,
                    c.getKey());
            assertOneLineNaming(e, pointer, expected.getOrDefault(c.getKey(), "not a version name"));
            assertTrue(e.getMessage().contains("versions: v0001, v0002") && e.getMessage().contains("delete it"),
                    e.getMessage());
            assertThrows(CorruptRegistryException.class, () -> registry.check(line -> { }));
            assertEquals(before, RegistryFixture.snapshot(tmp), c.getKey() + ": nothing changed");
        }
        Files.delete(pointer);
        Files.createDirectories(pointer);
        assertOneLineNaming(assertThrows(CorruptRegistryException.class, registry::production), pointer,
                "is not a file");
        for (String bad : List.of("../../x", "v0001/../../x", "/etc", "v1", "")) {
            assertThrows(IllegalArgumentException.class, () -> registry.versionDir(bad), bad);
            assertThrows(IllegalArgumentException.class, () -> registry.promote(bad), bad);
        }
    }

    @Test
    void damagedVersionJsonOrMetricsOfAnOlderVersionAreListedSkippedAndLeftAlone(@TempDir Path tmp)
            throws Exception {
        Path root = tmp.resolve("registry");
        ModelRegistry registry = RegistryFixture.registry(root, 3);
        Path v1Info = registry.versionDir("v0001").resolve("version.json");
        Path v2Metrics = registry.versionDir("v0002").resolve("metrics.json");
        Files.writeString(v1Info, "{\"key\": \"key-1\", \"status\": ");  // cut mid-write by something else
        Files.writeString(v2Metrics, "[1, 2");
        Map<String, String> before = RegistryFixture.snapshot(root);

        assertOneLineNaming(assertThrows(CorruptRegistryException.class, () -> registry.info("v0001")), v1Info,
                "is not valid JSON");
        List<String> warnings = new ArrayList<>();
        registry.check(warnings::add); // production v0003 is intact: the run may go on
        assertEquals(2, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("version v0001 is damaged") && warnings.get(0).contains(v1Info.toString())
                && warnings.get(0).contains("left as it is"), warnings.get(0));
        assertTrue(warnings.get(1).contains(v2Metrics.toString()), warnings.get(1));
        assertEquals(Optional.empty(), registry.findByKey("key-1"), "a damaged version never matches a run");
        assertEquals(Optional.of("v0003"), registry.findByKey("key-3"));

        List<String> lines = registry.describe();
        assertEquals(3, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("v0001  damaged: registry file " + v1Info), lines.get(0));
        assertTrue(lines.get(1).startsWith("v0002  damaged: registry file " + v2Metrics), lines.get(1));
        assertTrue(lines.get(2).startsWith("v0003 (production)  promoted  accuracy (ema+tta, test) = 0.700"),
                lines.get(2));
        assertEquals(before, RegistryFixture.snapshot(root), "listing and checking change nothing");

        // a new version goes after every existing one, damaged ones included, and changes none of them
        String v4 = registry.register(List.of(registry.versionDir("v0003").resolve("finetuned.safetensors"),
                registry.versionDir("v0003").resolve("metrics.json")), Map.of("key", "key-4", "status", "rejected"));
        assertEquals("v0004", v4);
        Map<String, String> after = RegistryFixture.snapshot(root);
        before.forEach((file, hash) -> assertEquals(hash, after.get(file), file + " unchanged"));
        assertThrows(IllegalArgumentException.class, () -> registry.promote("v0001"), "a damaged version is never "
                + "promoted");
        assertEquals("v0003", registry.production().orElseThrow());

        Files.delete(v1Info);
        assertTrue(registry.describe().get(0).contains(v1Info + " is missing"), registry.describe().get(0));
        Files.writeString(v1Info, "[]");
        assertTrue(registry.describe().get(0).contains("is not a JSON object"), registry.describe().get(0));
    }

    @Test
    void aDamagedProductionVersionStopsTheRunNamingTheFileAndWhatToDo(@TempDir Path tmp) throws Exception {
        Path root = tmp.resolve("registry");
        ModelRegistry registry = RegistryFixture.registry(root, 2);
        Path model = registry.versionDir("v0002").resolve("finetuned-ema.safetensors");
        byte[] valid = Files.readAllBytes(model);
        Map<String, byte[]> cases = new LinkedHashMap<>();
        cases.put("truncated", Arrays.copyOf(valid, valid.length - 100));
        byte[] flipped = valid.clone();
        flipped[valid.length - 10] ^= 0x08;
        cases.put("bit flip", flipped);
        cases.put("not safetensors", "<html>404</html>".getBytes());
        for (Map.Entry<String, byte[]> c : cases.entrySet()) {
            Files.write(model, c.getValue());
            Map<String, String> before = RegistryFixture.snapshot(root);
            CorruptRegistryException e = assertThrows(CorruptRegistryException.class,
                    () -> registry.check(line -> { }), c.getKey());
            assertOneLineNaming(e, model, "production version v0002 is damaged");
            assertTrue(e.getMessage().contains("is not a valid safetensors file")
                    && e.getMessage().contains("point " + root.resolve("production") + " at another version"),
                    e.getMessage());
            assertEquals(before, RegistryFixture.snapshot(root), c.getKey() + ": nothing changed");
        }
        Files.write(model, valid);
        Path metrics = registry.versionDir("v0002").resolve("metrics.json");
        Files.writeString(metrics, "");
        assertOneLineNaming(assertThrows(CorruptRegistryException.class, () -> registry.check(line -> { })),
                metrics, "is empty");
        Files.delete(metrics);
        assertOneLineNaming(assertThrows(CorruptRegistryException.class, () -> registry.check(line -> { })),
                metrics, "is missing");
        Files.writeString(metrics, "{}");
        Files.delete(registry.versionDir("v0002").resolve("finetuned.safetensors"));
        assertOneLineNaming(assertThrows(CorruptRegistryException.class, () -> registry.check(line -> { })),
                registry.versionDir("v0002").resolve("finetuned.safetensors"), "is missing");
    }

    @Test
    void theListingSurvivesADamagedPointer(@TempDir Path tmp) throws Exception {
        Path root = tmp.resolve("registry");
        ModelRegistry registry = RegistryFixture.registry(root, 2);
        Files.writeString(root.resolve("production"), "v0007");
        List<String> lines = registry.describe();
        assertEquals(3, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("(no production: registry pointer " + root.resolve("production")),
                lines.get(0));
        assertTrue(lines.get(2).startsWith("v0002  promoted"), lines.get(2));
    }

    @Test
    void versionsAreOrderedByNumberSoTheNextNameIsNeverTaken(@TempDir Path tmp) throws Exception {
        Path root = tmp.resolve("registry");
        ModelRegistry registry = RegistryFixture.registry(root, 1);
        Files.createDirectories(root.resolve("versions").resolve("v9999"));
        Files.createDirectories(root.resolve("versions").resolve("v10000"));
        Files.writeString(root.resolve("versions").resolve("v10000").resolve("version.json"), "{}");
        assertEquals(List.of("v0001", "v9999", "v10000"), registry.versions());
        String next = registry.register(List.of(registry.versionDir("v0001").resolve("metrics.json")),
                Map.of("key", "k"));
        assertEquals("v10001", next);
    }
}
