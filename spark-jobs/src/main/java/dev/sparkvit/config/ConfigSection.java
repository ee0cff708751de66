package dev.sparkvit.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One mapping of a configuration, read key by key with types, defaults and ranges. Every key read is remembered;
 * {@link #finish()} rejects the keys nobody read (typos such as {@code learning_rte}), listing the known ones.
 * Messages name the file (and line), the full key and the value.
 */
public final class ConfigSection {
    private final String file;
    private final String prefix;
    private final Map<String, YamlConfig.Value> values;
    private final Set<String> known = new LinkedHashSet<>();
    private final Map<String, ConfigSection> children = new LinkedHashMap<>();
    private final KeyLog log;

    ConfigSection(String file, String prefix, Map<String, YamlConfig.Value> values, KeyLog log) {
        this.file = file;
        this.prefix = prefix;
        this.values = values;
        this.log = log;
    }

    /** Notes a key read with its type, default (null: required) and allowed values, when a log listens. */
    private void note(String key, String type, String fallback, String allowed) {
        if (log != null) {
            log.note(prefix + key, type, fallback, allowed);
        }
    }

    /** Notes the description of {@code path} (a full key) for the reference, when a log listens. */
    void document(String path, String doc) {
        if (log != null) {
            log.document(path, doc);
        }
    }

    /** A nested section, the same one each time it is asked for; absent means empty (all defaults). */
    @SuppressWarnings("unchecked")
    public ConfigSection section(String key) {
        known.add(key);
        ConfigSection read = children.get(key);
        if (read != null) {
            return read;
        }
        YamlConfig.Value value = values.get(key);
        Map<String, YamlConfig.Value> map;
        if (value == null || value.value() == null) {
            map = new LinkedHashMap<>();
        } else if (value.value() instanceof Map) {
            map = (Map<String, YamlConfig.Value>) value.value();
        } else {
            throw error(key, value, "a section (mapping of keys)");
        }
        ConfigSection child = new ConfigSection(file, prefix + key + ".", map, log);
        children.put(key, child);
        return child;
    }

    /**
     * Rejects a key that was renamed: when {@code oldKey} is written in this section (even as null), one line naming
     * where it was written, the old key and {@code newKey} (the full new name), e.g.
     * {@code job.yaml:12: training.ema_decay is now training.ema.decay}; from {@code --set}, the job file and the
     * option: {@code job.yaml: training.ema_decay (--set training.ema_decay) is now training.ema.decay}.
     */
    public void renamed(String oldKey, String newKey) {
        rejectWritten(oldKey, " is now " + newKey);
    }

    /**
     * Rejects a key that no longer exists: when {@code key} is written in this section (even as null), one line naming
     * where, the key and {@code instead}, e.g. {@code job.yaml:30: training.engine was removed: ...}.
     */
    public void removed(String key, String instead) {
        rejectWritten(key, " was removed: " + instead);
    }

    /** One line naming where {@code key} was written, then {@code verdict}; nothing when it is not written. */
    private void rejectWritten(String key, String verdict) {
        YamlConfig.Value value = values.get(key);
        if (value == null && !values.containsKey(key)) {
            return;
        }
        boolean set = value != null && value.line() == 0;
        throw new ConfigException((set ? file + ": " : where(value)) + prefix + key
                + (set ? " (" + value.origin() + ")" : "") + verdict);
    }

    public boolean has(String key) {
        YamlConfig.Value value = values.get(key);
        return value != null && value.value() != null;
    }

    public String string(String key, String fallback) {
        note(key, "text", fallback, "");
        return read(key, fallback);
    }

    private String read(String key, String fallback) {
        known.add(key);
        YamlConfig.Value value = values.get(key);
        if (value == null || value.value() == null) {
            if (fallback == null) {
                throw new ConfigException(where(null) + prefix + key + " is required but missing");
            }
            return fallback;
        }
        if (!(value.value() instanceof String text)) {
            throw error(key, value, "a single value");
        }
        return text;
    }

    /** One of {@code choices} (case-insensitive; returned in lower case). */
    public String choice(String key, String fallback, String... choices) {
        note(key, "choice", fallback, String.join(" | ", choices));
        String text = read(key, fallback).toLowerCase(Locale.ROOT);
        if (!List.of(choices).contains(text)) {
            throw error(key, values.get(key), "one of " + String.join(", ", choices));
        }
        return text;
    }

    public int integer(String key, int fallback, int min, int max) {
        note(key, "integer", String.valueOf(fallback), "[" + min + ", " + max + "]");
        String text = read(key, String.valueOf(fallback));
        try {
            int value = Integer.parseInt(text.replace("_", ""));
            if (value < min || value > max) {
                throw error(key, values.get(key), "an integer in [" + min + ", " + max + "]");
            }
            return value;
        } catch (NumberFormatException e) {
            throw error(key, values.get(key), "an integer");
        }
    }

    /** A finite number in {@code [min, max]}; {@code minExclusive} excludes min itself. */
    public double number(String key, double fallback, double min, boolean minExclusive, double max) {
        note(key, "number", String.valueOf(fallback), (minExclusive ? "(" : "[") + min + ", " + max + "]");
        String text = read(key, String.valueOf(fallback));
        double value;
        try {
            value = Double.parseDouble(text);
        } catch (NumberFormatException e) {
            throw error(key, values.get(key), "a number");
        }
        if (!Double.isFinite(value) || value < min || (minExclusive && value == min) || value > max) {
            throw error(key, values.get(key), "a number in " + (minExclusive ? "(" : "[") + min + ", " + max + "]");
        }
        return value;
    }

    /**
     * One of {@code words} (returned in lower case) or a finite number in {@code [min, max]} ({@code minExclusive}
     * excludes min itself), returned as written: e.g. {@code auto}, {@code off} or a value.
     */
    public String choiceOrNumber(String key, String fallback, double min, boolean minExclusive, double max,
            String... words) {
        String range = (minExclusive ? "(" : "[") + min + ", " + max + "]";
        note(key, "choice or number", fallback, String.join(" | ", words) + " | " + range);
        String text = read(key, fallback);
        if (List.of(words).contains(text.toLowerCase(Locale.ROOT))) {
            return text.toLowerCase(Locale.ROOT);
        }
        try {
            double value = Double.parseDouble(text.replace("_", ""));
            if (Double.isFinite(value) && value >= min && !(minExclusive && value == min) && value <= max) {
                return text;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw error(key, values.get(key), String.join(", ", words) + " or a number in " + range);
    }

    /** The word meaning "chosen by the job" for the keys read by the {@code ...OrAuto} methods. */
    public static final String AUTO = "auto";

    /** {@code auto} (the default; null) or a whole number in {@code [min, max]}. */
    public Integer integerOrAuto(String key, int min, int max) {
        note(key, "integer or auto", AUTO, "auto | [" + min + ", " + max + "]");
        String text = read(key, AUTO);
        if (text.equalsIgnoreCase(AUTO)) {
            return null;
        }
        try {
            int value = Integer.parseInt(text.replace("_", ""));
            if (value >= min && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw error(key, values.get(key), "auto or an integer in [" + min + ", " + max + "]");
    }

    /** {@code auto} (the default; null) or a finite number in {@code [min, max]} (min excluded if asked). */
    public Double numberOrAuto(String key, double min, boolean minExclusive, double max) {
        String range = (minExclusive ? "(" : "[") + min + ", " + max + "]";
        note(key, "number or auto", AUTO, "auto | " + range);
        String text = read(key, AUTO);
        if (text.equalsIgnoreCase(AUTO)) {
            return null;
        }
        try {
            double value = Double.parseDouble(text);
            if (Double.isFinite(value) && value >= min && !(minExclusive && value == min) && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw error(key, values.get(key), "auto or a number in " + range);
    }

    /** {@code auto} (the default; null), true or false. */
    public Boolean flagOrAuto(String key) {
        note(key, "boolean or auto", AUTO, "auto | true | false");
        String text = read(key, AUTO).toLowerCase(Locale.ROOT);
        return switch (text) {
            case AUTO -> null;
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw error(key, values.get(key), "auto, true or false");
        };
    }

    public boolean flag(String key, boolean fallback) {
        note(key, "boolean", String.valueOf(fallback), "true | false");
        String text = read(key, String.valueOf(fallback)).toLowerCase(Locale.ROOT);
        return switch (text) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw error(key, values.get(key), "true or false");
        };
    }

    /** A path; relative paths are kept as written (resolved against the working directory by the caller). */
    public Path path(String key, String fallback) {
        note(key, "path", fallback, "");
        String text = read(key, fallback);
        if (text.isBlank()) {
            throw error(key, values.get(key), "a non-empty path");
        }
        return toPath(key, text);
    }

    private Path toPath(String key, String text) {
        // a Hadoop URI here would become "<cwd>/hdfs:/nn:8020/x" (java.nio) and fail late, far from the config
        if (text.matches("[A-Za-z][A-Za-z0-9+.-]*://.*") && !text.regionMatches(true, 0, "file:", 0, 5)) {
            throw error(key, values.get(key), "a local folder of the driver (a path or file:/...), not a Hadoop URI");
        }
        try {
            if (text.regionMatches(true, 0, "file:", 0, 5)) {
                return dev.sparkvit.storage.Locations.local(text);
            }
            return Path.of(text);
        } catch (java.nio.file.InvalidPathException e) {
            throw error(key, values.get(key), "a valid path (" + e.getReason() + ")");
        } catch (IllegalArgumentException e) { // a file: URI Locations.local cannot take
            throw error(key, values.get(key), "a valid path (" + e.getMessage() + ")");
        }
    }

    /**
     * A path that may name another file system: a local path (checked as {@link #path}) or a Hadoop URI such as
     * {@code hdfs://nn:8020/ds} or {@code s3a://bucket/ds}, returned exactly as written (see
     * {@link dev.sparkvit.storage.Locations}).
     */
    public String location(String key, String fallback) {
        return location(key, fallback, "local, hdfs://, s3a://");
    }

    /** A {@link #location(String, String)} whose file systems the reference documents as {@code allowed}. */
    public String location(String key, String fallback, String allowed) {
        note(key, "path", fallback, allowed);
        String text = read(key, fallback);
        if (text.isBlank()) {
            throw error(key, values.get(key), "a non-empty path");
        }
        return checkedLocation(key, text);
    }

    /** A {@link #location}, or null when the key is absent or null (an optional input). */
    public String optionalLocation(String key) {
        note(key, "path", "null", "or null; local, hdfs://, s3a://");
        known.add(key);
        if (!has(key)) {
            return null;
        }
        String text = read(key, null);
        if (text.isBlank()) {
            throw error(key, values.get(key), "a non-empty path");
        }
        return checkedLocation(key, text);
    }

    private String checkedLocation(String key, String text) {
        if (dev.sparkvit.storage.Locations.isRemote(text)) {
            try {
                new org.apache.hadoop.fs.Path(text);
            } catch (IllegalArgumentException e) {
                throw error(key, values.get(key), "a valid URI (" + e.getMessage() + ")");
            }
            return text;
        }
        try {
            dev.sparkvit.storage.Locations.local(text);
        } catch (IllegalArgumentException e) {
            throw error(key, values.get(key), "a valid path (" + e.getMessage() + ")");
        }
        return text;
    }

    /** A list of single values, each one of {@code choices} (lower-cased); absent: {@code fallback}. */
    public List<String> choices(String key, List<String> fallback, String... choices) {
        note(key, "list", "[" + String.join(", ", fallback) + "]", "of " + String.join(" | ", choices));
        known.add(key);
        YamlConfig.Value value = values.get(key);
        if (value == null || value.value() == null) {
            return fallback;
        }
        if (!(value.value() instanceof List<?> items)) {
            throw error(key, value, "a list of " + String.join(", ", choices));
        }
        List<String> result = new ArrayList<>();
        for (Object item : items) {
            Object text = item instanceof YamlConfig.Value v ? v.value() : item;
            String choice = text instanceof String t ? t.toLowerCase(Locale.ROOT) : null;
            if (choice == null || !List.of(choices).contains(choice)) {
                throw error(key, value, "a list of " + String.join(", ", choices) + " (found " + text + ")");
            }
            result.add(choice);
        }
        return result;
    }

    /** A list of single values (kept as written); absent or null: empty. */
    public List<String> strings(String key) {
        note(key, "list", "[]", "of values");
        known.add(key);
        YamlConfig.Value value = values.get(key);
        if (value == null || value.value() == null) {
            return List.of();
        }
        if (!(value.value() instanceof List<?> items)) {
            throw error(key, value, "a list of values");
        }
        List<String> result = new ArrayList<>();
        for (Object item : items) {
            Object text = item instanceof YamlConfig.Value v ? v.value() : item;
            if (!(text instanceof String s)) {
                throw error(key, value, "a list of single values (found " + text + ")");
            }
            result.add(s);
        }
        return result;
    }

    /** The text of a key's value and where it came from, for messages about values checked elsewhere. */
    public String describe(String key) {
        YamlConfig.Value value = values.get(key);
        return prefix + key + " = " + text(value) + " (" + where(value)
                .replaceAll(": $", "") + ")";
    }

    /** Rejects keys of this section and its read subsections that were never read. */
    public void finish() {
        Set<String> unknown = new LinkedHashSet<>(values.keySet());
        unknown.removeAll(known);
        if (!unknown.isEmpty()) {
            String key = unknown.iterator().next();
            throw new ConfigException(where(values.get(key)) + "unknown key " + prefix + key
                    + (known.isEmpty() ? "" : "; known keys here: " + String.join(", ", known)));
        }
        children.values().forEach(ConfigSection::finish);
    }

    private ConfigException error(String key, YamlConfig.Value value, String expected) {
        return new ConfigException(where(value) + prefix + key + " = " + text(value) + " is invalid: expected "
                + expected);
    }

    /** A value as written: lists as {@code [a, b]} and sections as {@code {k: v}}, not as the records holding them. */
    private static String text(YamlConfig.Value value) {
        if (value == null) {
            return "(default)";
        }
        if (value.value() instanceof List<?> items) {
            List<String> parts = new ArrayList<>();
            for (Object item : items) {
                parts.add(item instanceof YamlConfig.Value v ? text(v) : String.valueOf(item));
            }
            return "[" + String.join(", ", parts) + "]";
        }
        if (value.value() instanceof Map<?, ?> map) {
            List<String> parts = new ArrayList<>();
            map.forEach((k, v) -> parts.add(k + ": " + (v instanceof YamlConfig.Value inner ? text(inner)
                    : String.valueOf(v))));
            return "{" + String.join(", ", parts) + "}";
        }
        return ConfigException.shown(String.valueOf(value.value()));
    }

    /** Where a value was written: its file (the job file or an included fragment) and line, or its --set. */
    private String where(YamlConfig.Value value) {
        if (value == null) {
            return file + ": ";
        }
        return value.origin() + (value.line() == 0 ? "" : ":" + value.line()) + ": ";
    }
}
