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
import java.util.Set;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * A YAML configuration file read as a tree of sections and scalar values, each remembering the file and line it came
 * from. YAML is only composed into nodes, never constructed into objects, so a file cannot instantiate classes.
 *
 * <p>Layering: a top-level {@code include: [model/vit_nano.yaml, augment/moderate.yaml]} (paths relative to the
 * including file) merges those files, in order, under the including one: a later include overrides an earlier one
 * and the including file overrides its includes. Sections merge key by key; scalars and lists replace. Included files
 * may include others; a cycle, a missing or unreadable include, or an {@code include} that is not a list of paths is
 * a {@link ConfigException} naming the including file and line. {@code --set key.path=value} overrides
 * ({@link #with}) are applied last, over everything. Read the result through {@link ConfigSection}, which checks
 * types, ranges and unknown keys and names the file (fragment or job file) where each bad value was written.
 */
public final class YamlConfig {
    /** A scalar (String), a section (Map) or a list (List) with the line it was written on (0 for overrides). */
    record Value(Object value, int line, String origin) {
    }

    private final String file;
    private final Map<String, Value> root;
    private final KeyLog log;

    private YamlConfig(String file, Map<String, Value> root) {
        this(file, root, null);
    }

    private YamlConfig(String file, Map<String, Value> root, KeyLog log) {
        this.file = file;
        this.root = root;
        this.log = log;
    }

    /** The same config, noting every key its readers ask for in {@code log} (for the configuration reference). */
    public YamlConfig loggingKeysTo(KeyLog log) {
        return new YamlConfig(file, root, log);
    }

    /** The top-level key listing the files merged under a config file. */
    public static final String INCLUDE = "include";

    /**
     * Reads {@code file} and, recursively, the files it includes; a missing, unreadable or malformed file is a
     * {@link ConfigException} naming it.
     */
    public static YamlConfig load(Path file) {
        return load(new ConfigFile.Local(file));
    }

    /** {@link #load(Path)} for a local path or a URI of another Hadoop file system ({@code hdfs://}, {@code s3a://}). */
    public static YamlConfig load(String location) {
        return load(ConfigFile.of(location));
    }

    private static YamlConfig load(ConfigFile file) {
        if (!file.readable()) {
            throw new ConfigException("config file " + file.name() + " does not exist or is not a file");
        }
        return new YamlConfig(file.name(), layered(file, new ArrayList<>()));
    }

    /** {@code file}'s tree with its includes merged under it; {@code chain} holds the files including it. */
    private static Map<String, Value> layered(ConfigFile file, List<ConfigFile> chain) {
        Map<String, Value> own;
        try (Reader reader = file.open()) {
            own = compose(file.name(), reader);
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file.name() + ": " + e.getMessage());
        }
        Value include = own.remove(INCLUDE);
        if (include == null || include.value() == null) {
            return own;
        }
        String where = file.name() + ":" + include.line() + ": ";
        if (!(include.value() instanceof List<?> items)) {
            throw new ConfigException(where + INCLUDE + " = " + describe(include) + " is invalid: expected a list "
                    + "of files relative to " + file.name() + ", e.g. [model/vit_nano.yaml]");
        }
        chain.add(file);
        Map<String, Value> merged = new LinkedHashMap<>();
        for (Object item : items) {
            Value entry = (Value) item;
            if (!(entry.value() instanceof String name) || name.isBlank()) {
                throw new ConfigException(file.name() + ":" + entry.line() + ": " + INCLUDE + " = "
                        + describe(include) + " is invalid: expected a list of files relative to " + file.name()
                        + " (found " + describe(entry) + ")");
            }
            ConfigFile included = file.sibling(name);
            if (!included.readable()) {
                throw new ConfigException(file.name() + ":" + entry.line() + ": " + INCLUDE + " " + name + ": "
                        + included.name() + " does not exist or is not a readable file");
            }
            String identity = included.identity();
            for (int i = 0; i < chain.size(); i++) {
                if (chain.get(i).identity().equals(identity)) {
                    List<String> names = new ArrayList<>();
                    chain.subList(i, chain.size()).forEach(p -> names.add(p.name()));
                    names.add(included.name());
                    throw new ConfigException(file.name() + ":" + entry.line() + ": " + INCLUDE + " " + name
                            + " makes a cycle: " + String.join(" -> ", names));
                }
            }
            merged = merge(merged, layered(included, chain));
        }
        chain.remove(chain.size() - 1);
        return merge(merged, own);
    }

    /** {@code over} merged onto a copy of {@code base}: sections key by key, anything else replaced. */
    @SuppressWarnings("unchecked")
    private static Map<String, Value> merge(Map<String, Value> base, Map<String, Value> over) {
        Map<String, Value> result = deepCopy(base);
        over.forEach((key, value) -> {
            Value below = result.get(key);
            if (below != null && below.value() instanceof Map && value.value() instanceof Map) {
                result.put(key, new Value(merge((Map<String, Value>) below.value(), (Map<String, Value>) value.value()),
                        value.line(), value.origin()));
            } else {
                result.put(key, value);
            }
        });
        return result;
    }

    private static String describe(Value value) {
        if (value.value() instanceof List<?> items) {
            List<String> parts = new ArrayList<>();
            items.forEach(item -> parts.add(describe((Value) item)));
            return "[" + String.join(", ", parts) + "]";
        }
        return value.value() instanceof Map ? "a mapping" : ConfigException.shown(String.valueOf(value.value()));
    }

    /** Parses YAML text; {@code name} is used in messages. Text has no folder, so it cannot {@code include}. */
    public static YamlConfig parse(String name, Reader reader) {
        Map<String, Value> root = compose(name, reader);
        Value include = root.get(INCLUDE);
        if (include != null) {
            throw new ConfigException(name + ":" + include.line() + ": " + INCLUDE + " is only allowed in a config "
                    + "file (paths are relative to it)");
        }
        return new YamlConfig(name, root);
    }

    /** The tree of YAML text (composed into nodes only, never constructed into objects). */
    private static Map<String, Value> compose(String name, Reader reader) {
        Node node;
        try {
            node = new Yaml().compose(reader);
        } catch (MarkedYAMLException e) {
            throw new ConfigException(name + ":" + (e.getProblemMark().getLine() + 1) + ": not valid YAML: "
                    + String.valueOf(e.getProblem()).strip());
        } catch (YAMLException e) {
            throw new ConfigException(name + ": not valid YAML: " + e.getMessage());
        }
        if (node == null) {
            return new LinkedHashMap<>();
        }
        if (!(node instanceof MappingNode mapping)) {
            throw new ConfigException(name + ":" + line(node) + ": the top level must be a mapping of keys");
        }
        return toMap(name, mapping, "", java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>()));
    }

    private static int line(Node node) {
        return node.getStartMark() == null ? 0 : node.getStartMark().getLine() + 1;
    }

    /** {@code open}: the collection nodes being converted above this one, to catch an anchor used inside itself. */
    private static Map<String, Value> toMap(String name, MappingNode mapping, String prefix, Set<Node> open) {
        Map<String, Value> map = new LinkedHashMap<>();
        for (NodeTuple tuple : mapping.getValue()) {
            if (!(tuple.getKeyNode() instanceof ScalarNode keyNode)) {
                throw new ConfigException(name + ":" + line(tuple.getKeyNode()) + ": keys must be plain names");
            }
            String key = keyNode.getValue();
            if (map.containsKey(key)) {
                throw new ConfigException(name + ":" + line(keyNode) + ": key " + prefix + key + " appears twice");
            }
            map.put(key, toValue(name, tuple.getValueNode(), prefix + key + ".", open));
        }
        return map;
    }

    private static Value toValue(String name, Node node, String prefix, Set<Node> open) {
        if (node instanceof MappingNode || node instanceof SequenceNode) {
            if (!open.add(node)) {
                String key = prefix.isEmpty() ? "the top level" : prefix.substring(0, prefix.length() - 1);
                throw new ConfigException(name + ":" + line(node) + ": " + key + " refers to itself through an alias "
                        + "(an anchor used inside its own value)");
            }
            try {
                if (node instanceof MappingNode mapping) {
                    return new Value(toMap(name, mapping, prefix, open), line(node), name);
                }
                List<Value> items = new ArrayList<>();
                for (Node item : ((SequenceNode) node).getValue()) {
                    items.add(toValue(name, item, prefix, open));
                }
                return new Value(items, line(node), name);
            } finally {
                open.remove(node);
            }
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
            if (path.equals(INCLUDE) || path.startsWith(INCLUDE + ".")) {
                throw new ConfigException("--set " + path + ": includes can only be written in config files");
            }
            String text = override.substring(eq + 1);
            if (text.isBlank()) {
                // an empty value left the key to the file (or its default) without a word
                throw new ConfigException("--set " + override + ": no value given (write " + path + "=null to "
                        + "unset an optional key)");
            }
            Value value = compose("--set " + path, new StringReader("v: " + text)).get("v");
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
        return new YamlConfig(file, copy, log);
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

    /** The value written at a dotted key path, or null (for the configuration reference). */
    @SuppressWarnings("unchecked")
    Value find(String dottedKey) {
        Map<String, Value> section = root;
        String[] keys = dottedKey.split("\\.");
        for (int i = 0; i < keys.length - 1; i++) {
            Value next = section.get(keys[i]);
            if (next == null || !(next.value() instanceof Map)) {
                return null;
            }
            section = (Map<String, Value>) next.value();
        }
        return section.get(keys[keys.length - 1]);
    }

    /** The top-level section. */
    public ConfigSection root() {
        return new ConfigSection(file, "", root, log);
    }
}
