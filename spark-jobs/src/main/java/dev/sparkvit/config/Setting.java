package dev.sparkvit.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * One setting, declared once: its key path (e.g. {@code training.epochs}), how it is read (type, default, range or
 * choices, through {@link ConfigSection}, whose messages name file, line, key and value), a one-line doc (the
 * description in docs/CONFIG.md), and whether and how it enters the run fingerprint. A job lists its settings in a
 * {@link SettingList}; reading a config gives {@link SettingValues}, and code asks them for a setting's value with
 * {@code values.get(SETTING)}. So a new key is its declaration and its use.
 *
 * <p>Besides keys read from the file there are <em>derived</em> settings, computed from other settings' values (e.g.
 * FreezeOut's four knobs as one record) and <em>assigned</em> ones, set by the job after reading (e.g. a resolved
 * recipe): both have a name instead of a key, and may enter the fingerprint like keys.
 *
 * @param <T> the value's type
 */
public final class Setting<T> {
    /** Reads a setting from the config being read. */
    @FunctionalInterface
    public interface Reader<T> {
        T read(Input in);
    }

    /**
     * The config being read: the file and its root section; {@link #section} finds a (nested) section by its dotted
     * path, the same object every time, so that unknown keys are found once all settings are read.
     */
    public record Input(YamlConfig yaml, ConfigSection root) {
        /** The section at {@code path} ({@code ""}: the root; {@code "training.ema"}: nested). */
        public ConfigSection section(String path) {
            ConfigSection section = root;
            if (!path.isEmpty()) {
                for (String name : path.split("\\.")) {
                    section = section.section(name);
                }
            }
            return section;
        }

        /** The job file, for messages. */
        public String file() {
            return yaml.file();
        }
    }

    private enum Kind { READ, DERIVED, ASSIGNED }

    private final String path;
    private final String doc;
    private final Kind kind;
    private final Reader<T> reader;
    private final Function<SettingValues, T> derivation;
    private final Function<T, Map<String, String>> fingerprint;

    private Setting(String path, String doc, Kind kind, Reader<T> reader, Function<SettingValues, T> derivation,
            Function<T, Map<String, String>> fingerprint) {
        this.path = path;
        this.doc = doc;
        this.kind = kind;
        this.reader = reader;
        this.derivation = derivation;
        this.fingerprint = fingerprint;
    }

    /** A key read by {@code reader} (which reads the key at {@code path}, with its own checks and messages). */
    public static <T> Setting<T> read(String path, String doc, Reader<T> reader) {
        return new Setting<>(path, doc, Kind.READ, reader, null, null);
    }

    /** A key read by {@code read} from the section holding it, given the key's last name. */
    private static <T> Setting<T> key(String path, String doc, java.util.function.BiFunction<ConfigSection, String,
            T> read) {
        int dot = path.lastIndexOf('.');
        String parent = dot < 0 ? "" : path.substring(0, dot);
        String name = path.substring(dot + 1);
        return read(path, doc, in -> read.apply(in.section(parent), name));
    }

    /** An integer in {@code [min, max]}. */
    public static Setting<Integer> integer(String path, int fallback, int min, int max, String doc) {
        return key(path, doc, (section, name) -> section.integer(name, fallback, min, max));
    }

    /** A finite number in {@code [min, max]}; {@code minExclusive} excludes min. */
    public static Setting<Double> number(String path, double fallback, double min, boolean minExclusive, double max,
            String doc) {
        return key(path, doc, (section, name) -> section.number(name, fallback, min, minExclusive, max));
    }

    /** One of {@code choices}, in lower case. */
    public static Setting<String> choice(String path, String fallback, String doc, String... choices) {
        return key(path, doc, (section, name) -> section.choice(name, fallback, choices));
    }

    /** true or false. */
    public static Setting<Boolean> flag(String path, boolean fallback, String doc) {
        return key(path, doc, (section, name) -> section.flag(name, fallback));
    }

    /** {@code auto} (null) or an integer in {@code [min, max]}. */
    public static Setting<Integer> integerOrAuto(String path, int min, int max, String doc) {
        return key(path, doc, (section, name) -> section.integerOrAuto(name, min, max));
    }

    /** {@code auto} (null) or a finite number in {@code [min, max]}. */
    public static Setting<Double> numberOrAuto(String path, double min, boolean minExclusive, double max,
            String doc) {
        return key(path, doc, (section, name) -> section.numberOrAuto(name, min, minExclusive, max));
    }

    /** {@code auto} (null), true or false. */
    public static Setting<Boolean> flagOrAuto(String path, String doc) {
        return key(path, doc, (section, name) -> section.flagOrAuto(name));
    }

    /** A list of {@code choices} (lower case); absent: {@code fallback}. */
    public static Setting<List<String>> choices(String path, List<String> fallback, String doc, String... choices) {
        return key(path, doc, (section, name) -> section.choices(name, fallback, choices));
    }

    /** A value computed from other settings' values (computed when asked, so it follows values set later). */
    public static <T> Setting<T> derived(String name, String doc, Function<SettingValues, T> derivation) {
        return new Setting<>(name, doc, Kind.DERIVED, null, derivation, null);
    }

    /** A value the job sets after reading ({@link SettingValues#with}); null until then. */
    public static <T> Setting<T> assigned(String name, String doc) {
        return new Setting<>(name, doc, Kind.ASSIGNED, null, null, null);
    }

    /**
     * A key that replaced {@code oldPath}: a config still writing the old key gets one line naming the new one,
     * e.g. {@code job.yaml:12: training.ema_decay is now training.ema.decay}.
     */
    public Setting<T> formerly(String oldPath) {
        Reader<T> next = reader;
        int dot = oldPath.lastIndexOf('.');
        String parent = dot < 0 ? "" : oldPath.substring(0, dot);
        return new Setting<>(path, doc, kind, in -> {
            in.section(parent).renamed(oldPath.substring(dot + 1), path);
            return next.read(in);
        }, derivation, fingerprint);
    }

    /**
     * A key that no longer exists: a config that writes it gets one line, e.g.
     * {@code job.yaml:30: training.engine was removed: ...}. Its value is always null.
     */
    public static Setting<Void> removed(String path, String instead) {
        int dot = path.lastIndexOf('.');
        String parent = dot < 0 ? "" : path.substring(0, dot);
        return new Setting<>(path, null, Kind.READ, in -> {
            in.section(parent).removed(path.substring(dot + 1), instead);
            return null;
        }, null, null);
    }

    /** In the run fingerprint under the key's last name, as {@code String.valueOf(value)}. */
    public Setting<T> fingerprinted() {
        return fingerprinted(String::valueOf);
    }

    /** In the run fingerprint under the key's last name, as {@code print} writes it (null: left out). */
    public Setting<T> fingerprinted(Function<T, String> print) {
        String name = path.substring(path.lastIndexOf('.') + 1);
        return fingerprintedAs(value -> {
            Map<String, String> entry = new LinkedHashMap<>();
            String text = print.apply(value);
            if (text != null) {
                entry.put(name, text);
            }
            return entry;
        });
    }

    /** In the run fingerprint as the entries {@code print} makes of the value (a composite such as the model's). */
    public Setting<T> fingerprintedAs(Function<T, Map<String, String>> print) {
        return new Setting<>(path, doc, kind, reader, derivation, print);
    }

    /** The key path (or, for a derived or assigned setting, its name). */
    public String path() {
        return path;
    }

    /** The one-line description; null for none. */
    public String doc() {
        return doc;
    }

    boolean isRead() {
        return kind == Kind.READ;
    }

    boolean isDerived() {
        return kind == Kind.DERIVED;
    }

    T readFrom(Input in) {
        return reader.read(in);
    }

    T derive(SettingValues values) {
        return derivation.apply(values);
    }

    /** This setting's fingerprint entries for {@code value}, or none when it is not in the fingerprint. */
    Map<String, String> fingerprint(T value) {
        return fingerprint == null ? Map.of() : fingerprint.apply(value);
    }

    @Override
    public String toString() {
        return path;
    }
}
