package dev.sparkvit.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The values of a job's settings read from one config: {@link #get} gives a setting's (typed, validated) value, and
 * {@link #fingerprint} the run fingerprint made from the settings that declare themselves part of it, in their
 * order. Immutable: {@link #with} makes a copy with one value replaced (a resolved {@code auto} key).
 */
public final class SettingValues {
    private final SettingList list;
    private final Map<String, Object> values;
    private final String source;
    private final ConfigSection root;

    SettingValues(SettingList list, Map<String, Object> values, String source, ConfigSection root) {
        this.list = list;
        this.values = values;
        this.source = source;
        this.root = root;
    }

    /** The value of {@code setting} (a setting of another job, or none, is a programming error). */
    @SuppressWarnings("unchecked")
    public <T> T get(Setting<T> setting) {
        if (!list.contains(setting)) {
            throw new IllegalArgumentException(setting.path() + " is not a setting of this job (" + source + ")");
        }
        return setting.isDerived() ? setting.derive(this) : (T) values.get(setting.path());
    }

    /** These values with {@code setting} set to {@code value}. */
    public <T> SettingValues with(Setting<T> setting, T value) {
        if (!list.contains(setting) || setting.isDerived()) {
            throw new IllegalArgumentException(setting.path() + " cannot be set here (" + source + ")");
        }
        Map<String, Object> copy = new LinkedHashMap<>(values);
        copy.put(setting.path(), value);
        return new SettingValues(list, copy, source, root);
    }

    /** Where the values were read from (the job file), for messages. */
    public String source() {
        return source;
    }

    /** The text of the key {@code setting} reads and where it was written, for messages about cross-key checks. */
    public String describe(Setting<?> setting) {
        String path = setting.path();
        int dot = path.lastIndexOf('.');
        return new Setting.Input(null, root).section(dot < 0 ? "" : path.substring(0, dot))
                .describe(path.substring(dot + 1));
    }

    /** The run fingerprint: the entries of every fingerprinted setting, in the settings' order. */
    public Map<String, String> fingerprint() {
        Map<String, String> run = new LinkedHashMap<>();
        for (Setting<?> setting : list.settings()) {
            run.putAll(entries(setting));
        }
        return run;
    }

    /** Every value read or set, by key, in order, then the source: {@code [training.epochs=20, ..., source=f]}. */
    @Override
    public String toString() {
        StringBuilder text = new StringBuilder("[");
        values.forEach((path, value) -> text.append(path).append('=').append(value).append(", "));
        return text.append("source=").append(source).append(']').toString();
    }

    private <T> Map<String, String> entries(Setting<T> setting) {
        return setting.fingerprint(get(setting));
    }
}
