package dev.sparkvit.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Inputs the config fuzz test found breaking the reader, each now a ConfigException on one line. */
class YamlConfigRobustnessTest {

    @Test
    void anAnchorUsedInsideItselfIsAConfigExceptionNotAStackOverflow(@TempDir Path tmp) throws IOException {
        Path file = Files.writeString(tmp.resolve("job.yaml"), "data:\n  dataset: x\nloop: &a {x: *a}\n");
        ConfigException e = assertThrows(ConfigException.class, () -> YamlConfig.load(file));
        assertTrue(e.getMessage().startsWith(file + ":3: loop.x refers to itself"), e.getMessage());
        ConfigException list = assertThrows(ConfigException.class,
                () -> YamlConfig.parse("t.yaml", new StringReader("a: &l [*l]\n")));
        assertTrue(list.getMessage().contains("t.yaml:1: a refers to itself"), list.getMessage());
    }

    @Test
    void anAnchorUsedTwiceSideBySideIsFine() {
        YamlConfig yaml = YamlConfig.parse("t.yaml", new StringReader("a: &l [1, 2]\nb: [*l, *l]\n"));
        assertEquals("[[1, 2], [1, 2]]", yaml.root().describe("b").replaceAll(" \\(.*", "").substring(4));
    }

    @Test
    void messagesStayOnOneLineAndShortWhateverTheValue() {
        YamlConfig block = YamlConfig.parse("t.yaml", new StringReader("training: |\n  epochs: 20\n  seed: 1\n"));
        ConfigException e = assertThrows(ConfigException.class, () -> block.root().section("training"));
        assertTrue(!e.getMessage().contains("\n") && e.getMessage().contains("epochs: 20\\nseed: 1"), e.getMessage());

        YamlConfig longValue = YamlConfig.parse("t.yaml", new StringReader("seed: " + "x".repeat(5000) + "\n"));
        ConfigException tooLong = assertThrows(ConfigException.class,
                () -> longValue.root().integer("seed", 1, 0, 10));
        assertTrue(tooLong.getMessage().length() < 400 && tooLong.getMessage().contains("(5000 characters)"),
                tooLong.getMessage());

        ConfigException escape = assertThrows(ConfigException.class,
                () -> YamlConfig.parse("t.yaml", new StringReader("seed: \"\\x\"\n")));
        assertTrue(!escape.getMessage().contains("\n") && escape.getMessage().startsWith("t.yaml:1: not valid YAML"),
                escape.getMessage());
    }

    @Test
    void aPathWithANulCharacterIsAConfigExceptionNamingTheKey() {
        YamlConfig yaml = YamlConfig.parse("t.yaml", new StringReader("output_dir: \"a\\0b\"\n"));
        ConfigException e = assertThrows(ConfigException.class, () -> yaml.root().path("output_dir", "out"));
        assertTrue(e.getMessage().startsWith("t.yaml:1: output_dir = a\\u0000b is invalid: expected a valid path"),
                e.getMessage());
    }

    @Test
    void anEmptySetValueIsRefusedInsteadOfLeavingTheKeyToTheFile() throws Exception {
        // issue 20, defect 5: --set output_dir= silently used the file's output_dir
        YamlConfig yaml = YamlConfig.parse("job.yaml", new java.io.StringReader("output_dir: out/x\n"));
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> yaml.with(java.util.List.of("output_dir=")));
        org.junit.jupiter.api.Assertions.assertEquals("--set output_dir=: no value given (write output_dir=null to "
                + "unset an optional key)", e.getMessage());
        org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> yaml.with(java.util.List.of("output_dir=  ")));
    }
}
