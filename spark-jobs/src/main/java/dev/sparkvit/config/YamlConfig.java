package dev.sparkvit.config;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * A YAML configuration file read as a tree of sections and scalar values, each remembering the line it came from.
 * YAML is only composed into nodes, never constructed into objects, so a file cannot instantiate classes.
 * {@code --set key.path=value} overrides replace or add scalars. Read it through {@link ConfigSection}, which checks
 * types, ranges and unknown keys.
 */
public final class YamlConfig {
    /** A scalar (String), a section (Map) or a list (List) with the line it was written on (0 for overrides). */
    record Value(Object value, int line, String origin) {
    }

    private final String file;
    private final Map<String, Value> root;

    private YamlConfig(String file, Map<String, Value> root) {
        this.file = file;
        this.root = root;
    }

    /** Reads {@code file}; a missing, unreadable or malformed file is a {@link ConfigException} naming it. */
    public static YamlConfig load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ConfigException("config file " + file + " does not exist or is not a file");
        }
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return parse(file.toString(), reader);
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
        }
    }

    /** Parses YAML text; {@code name} is used in messages. */
    public static YamlConfig parse(String name, Reader reader) {
        Node node;
        try {
            node = new Yaml().compose(reader);
        } catch (MarkedYAMLException e) {
            throw new ConfigException(name + ":" + (e.getProblemMark().getLine() + 1) + ": not valid YAML: "
                    + e.getProblem());
        } catch (YAMLException e) {
            throw new ConfigException(name + ": not valid YAML: " + e.getMessage());
        }
        if (node == null) {
            return new YamlConfig(name, new LinkedHashMap<>());
        }
        if (!(node instanceof MappingNode mapping)) {
            throw new ConfigException(name + ":" + line(node) + ": the top level must be a mapping of keys");
        }
        return new YamlConfig(name, toMap(name, mapping, ""));
    }

    private static int line(Node node) {
        return node.getStartMark() == null ? 0 : node.getStartMark().getLine() + 1;
    }

    private static Map<String, Value> toMap(String name, MappingNode mapping, String prefix) {
        Map<String, Value> map = new LinkedHashMap<>();
        for (NodeTuple tuple : mapping.getValue()) {
            if (!(tuple.getKeyNode() instanceof ScalarNode keyNode)) {
                throw new ConfigException(name + ":" + line(tuple.getKeyNode()) + ": keys must be plain names");
            }
            String key = keyNode.getValue();
            if (map.containsKey(key)) {
                throw new ConfigException(name + ":" + line(keyNode) + ": key " + prefix + key + " appears twice");
            }
            map.put(key, toValue(name, tuple.getValueNode(), prefix + key + "."));
        }
        return map;
    }

    private static Value toValue(String name, Node node, String prefix) {
        if (node instanceof MappingNode mapping) {
            return new Value(toMap(name, mapping, prefix), line(node), name);
        }
        if (node instanceof SequenceNode sequence) {
            List<Value> items = new ArrayList<>();
            for (Node item : sequence.getValue()) {
                items.add(toValue(name, item, prefix));
            }
            return new Value(items, line(node), name);
        }
        String text = ((ScalarNode) node).getValue();
        boolean nullish = ((ScalarNode) node).getTag().getValue().endsWith(":null");
        return new Value(nullish ? null : text, line(node), name);
    }

    /**
     * Applies {@code key.path=value} overrides (the CLI's {@code --set}); the value is read as a YAML scalar or flow
     * list. A key naming a section, or a value that is a section, is an error.
     */
    @SuppressWarnings("unchecked")
    public YamlConfig with(List<String> overrides) {
        Map<String, Value> copy = deepCopy(root);
        for (String override : overrides) {
            int eq = override.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException("--set " + override + ": expected key.path=value");
            }
            String path = override.substring(0, eq).trim();
            String text = override.substring(eq + 1);
            YamlConfig parsed = parse("--set " + path, new StringReader("v: " + text));
            Value value = parsed.root.get("v");
            if (value.value() instanceof Map) {
                throw new ConfigException("--set " + path + ": the value must be a scalar or a list, got a mapping");
            }
            Value placed = new Value(value.value(), 0, "--set " + path);
            String[] keys = path.split("\\.");
            Map<String, Value> section = copy;
            for (int i = 0; i < keys.length - 1; i++) {
                Value next = section.get(keys[i]);
                if (next == null) {
                    next = new Value(new LinkedHashMap<String, Value>(), 0, "--set " + path);
                    section.put(keys[i], next);
                } else if (!(next.value() instanceof Map)) {
                    throw new ConfigException("--set " + path + ": " + String.join(".", List.of(keys).subList(0,
                            i + 1)) + " is a value, not a section");
                }
                section = (Map<String, Value>) next.value();
            }
            Value existing = section.get(keys[keys.length - 1]);
            if (existing != null && existing.value() instanceof Map) {
                throw new ConfigException("--set " + path + ": " + path + " is a section; set one of its keys");
            }
            section.put(keys[keys.length - 1], placed);
        }
        return new YamlConfig(file, copy);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Value> deepCopy(Map<String, Value> map) {
        Map<String, Value> copy = new LinkedHashMap<>();
        map.forEach((k, v) -> copy.put(k, v.value() instanceof Map
                ? new Value(deepCopy((Map<String, Value>) v.value()), v.line(), v.origin()) : v));
        return copy;
    }

    /** The file name used in messages. */
    public String file() {
        return file;
    }

    /** The top-level section. */
    public ConfigSection root() {
        return new ConfigSection(file, "", root);
    }
}
