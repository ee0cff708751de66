package dev.sparkvit.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@link SettingList} reads each declared setting with the declared type, default and range, rejects undeclared
 * keys, and makes the fingerprint and the reference's descriptions from the declarations alone.
 */
class SettingListTest {
    @TempDir
    Path tmp;

    /** A small job: two keys, a nested one, a composite, an assigned value and a renamed key. */
    private static final class Keys {
        static final SettingList LIST = new SettingList();
        static final Setting<Integer> EPOCHS = LIST.add(Setting.integer("training.epochs", 30, 1, 100,
                "passes over the data").fingerprinted());
        static final Setting<String> MODE = LIST.add(Setting.choice("training.mode", "slow", "how fast", "slow",
                "fast").fingerprinted());
        static final Setting<Double> DECAY = LIST.add(Setting.number("training.ema.decay", 0.9, 0, false, 0.99,
                "decay").formerly("training.ema_decay"));
        static final Setting<Boolean> WARMUP = LIST.add(Setting.flag("training.ema.warmup", true, "warmup"));
        static final Setting<String> EMA = LIST.add(Setting.derived("training.ema", null,
                v -> v.get(DECAY) + (v.get(WARMUP) ? " warmup" : "")).fingerprinted());
        static final Setting<String> RECIPE = LIST.add(Setting.<String>assigned("recipe", null)
                .fingerprinted(r -> r == null ? null : r.toUpperCase(java.util.Locale.ROOT)));
        static final Setting<Integer> SEED = LIST.add(Setting.integer("training.seed", 42, 0, 1000, null)
                .fingerprinted());
    }

    private static SettingValues read(String yaml) {
        return Keys.LIST.read(YamlConfig.parse("job.yaml", new StringReader(yaml)));
    }

    @Test
    void readsEachSettingWithItsTypeAndDefault() {
        SettingValues values = read("training:\n  epochs: 7\n  ema:\n    warmup: false\n");
        assertEquals(7, values.get(Keys.EPOCHS));
        assertEquals("slow", values.get(Keys.MODE), "the declared default");
        assertEquals(0.9, values.get(Keys.DECAY));
        assertEquals(false, values.get(Keys.WARMUP));
        assertEquals("0.9", values.get(Keys.EMA), "a derived value is computed from the others");
        assertNull(values.get(Keys.RECIPE), "assigned, not read");
        assertEquals("job.yaml", values.source());
    }

    @Test
    void errorsAreTheSectionReadersOneLines() {
        assertEquals("job.yaml:2: training.epochs = 0 is invalid: expected an integer in [1, 100]",
                assertThrows(ConfigException.class, () -> read("training:\n  epochs: 0\n")).getMessage());
        assertEquals("job.yaml:2: training.mode = quick is invalid: expected one of slow, fast",
                assertThrows(ConfigException.class, () -> read("training:\n  mode: quick\n")).getMessage());
        assertEquals("job.yaml:3: unknown key training.epoch; known keys here: epochs, mode, ema, seed",
                assertThrows(ConfigException.class, () -> read("training:\n  epochs: 3\n  epoch: 4\n"))
                        .getMessage(), "keys of a section read by several settings are known together");
        assertEquals("job.yaml:2: training.ema_decay is now training.ema.decay",
                assertThrows(ConfigException.class, () -> read("training:\n  ema_decay: 0.5\n")).getMessage());
    }

    @Test
    void theFingerprintComesFromTheDeclarationsInTheirOrder() {
        SettingValues values = read("training:\n  mode: fast\n  seed: 3\n");
        assertEquals(Map.of("epochs", "30", "mode", "fast", "ema", "0.9 warmup", "seed", "3"), values.fingerprint());
        assertEquals(List.of("epochs", "mode", "ema", "seed"), List.copyOf(values.fingerprint().keySet()));
        SettingValues resolved = values.with(Keys.RECIPE, "small").with(Keys.DECAY, 0.5);
        assertEquals(List.of("epochs", "mode", "ema", "recipe", "seed"),
                List.copyOf(resolved.fingerprint().keySet()), "an assigned value enters at its declared place");
        assertEquals("SMALL", resolved.fingerprint().get("recipe"));
        assertEquals("0.5 warmup", resolved.fingerprint().get("ema"), "derived values follow values set later");
        assertEquals(0.9, values.get(Keys.DECAY), "with() copies");
    }

    @Test
    void aSettingIsDeclaredOnceAndAskedOnlyOfItsJob() {
        SettingList list = new SettingList();
        list.add(Setting.integer("a.b", 1, 0, 9, null));
        assertThrows(IllegalStateException.class, () -> list.add(Setting.flag("a.b", true, null)));
        SettingValues values = read("");
        assertThrows(IllegalArgumentException.class, () -> values.get(Setting.flag("training.other", true, null)));
        assertThrows(IllegalArgumentException.class, () -> values.with(Keys.EMA, "x"), "derived values are not set");
    }

    @Test
    void aGroupIsListedWholeInItsOrderAndOnlyOnce() {
        SettingList group = new SettingList();
        Setting<Integer> every = group.add(Setting.integer("training.checkpoint.every", 0, 0, 9, null));
        Setting<Integer> keep = group.add(Setting.integer("training.checkpoint.keep", 3, 1, 9, null));
        SettingList job = new SettingList();
        Setting<Integer> epochs = job.add(Setting.integer("training.epochs", 1, 1, 9, null));
        job.addAll(group);
        assertEquals(List.of(epochs, every, keep), job.settings());
        SettingValues values = job.read(YamlConfig.parse("job.yaml", new StringReader(
                "training:\n  checkpoint:\n    keep: 5\n")));
        assertEquals(5, values.get(keep));
        assertThrows(IllegalStateException.class, () -> job.addAll(group), "a group's keys are declared once per job");
    }

    @Test
    void theReferenceDescribesAKeyByItsDeclaredDocBeforeTheShippedComment() throws IOException {
        Path file = tmp.resolve("job.yaml");
        Files.writeString(file, "training:\n  epochs: 5     # the comment\n  seed: 1      # the seed's comment\n");
        String markdown = ConfigReference.markdown(List.of(new ConfigReference.Job("job", file, List.of(),
                Keys.LIST::read)));
        assertTrue(markdown.contains("| `training.epochs` | integer | [1, 100] | 30 | 5 | passes over the data |"),
                markdown);
        assertTrue(markdown.contains("| `training.seed` | integer | [0, 1000] | 42 | 1 | the seed's comment |"),
                "a key declared without a doc keeps the shipped comment: " + markdown);
        assertTrue(markdown.contains("| `training.mode` | choice | slow \\| fast | slow |  | how fast |"), markdown);
    }
}
