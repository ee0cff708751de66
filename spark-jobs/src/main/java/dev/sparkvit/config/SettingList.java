package dev.sparkvit.config;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A job's settings, in the order they are read and in which they enter the run fingerprint. A job's declaration
 * holder adds each setting as it declares it ({@code static final Setting<Integer> EPOCHS = LIST.add(...)}: static
 * fields initialise in the order they are written), so declaring a setting is the one line that lists it; a group of
 * settings several jobs share is a list of its own, added whole ({@link #addAll}).
 */
public final class SettingList {
    private final List<Setting<?>> settings = new ArrayList<>();
    private final Set<String> paths = new HashSet<>();

    /** Adds {@code setting} and returns it; a second setting of the same key or name is a programming error. */
    public <T> Setting<T> add(Setting<T> setting) {
        if (!paths.add(setting.path())) {
            throw new IllegalStateException(setting.path() + " is declared twice");
        }
        settings.add(setting);
        return setting;
    }

    /**
     * Adds every setting of {@code group} in its order: a group of settings several jobs read together (declared
     * once, in the group, with {@code GROUP.add(...)}), so that a new key of the group reaches every job listing it.
     */
    public void addAll(SettingList group) {
        group.settings.forEach(this::add);
    }

    /** The settings in order. */
    public List<Setting<?>> settings() {
        return List.copyOf(settings);
    }

    boolean contains(Setting<?> setting) {
        return paths.contains(setting.path());
    }

    /**
     * Reads every setting from {@code yaml} in order, then rejects the keys no setting read (typos); the first
     * problem is a {@link ConfigException} naming file, line, key and value.
     */
    public SettingValues read(YamlConfig yaml) {
        ConfigSection root = yaml.root();
        Setting.Input in = new Setting.Input(yaml, root);
        Map<String, Object> values = new LinkedHashMap<>();
        for (Setting<?> setting : settings) {
            if (setting.isRead()) {
                values.put(setting.path(), setting.readFrom(in));
                if (setting.doc() != null) {
                    root.document(setting.path(), setting.doc());
                }
            } else if (!setting.isDerived()) {
                values.put(setting.path(), null);
            }
        }
        root.finish();
        return new SettingValues(this, values, yaml.file(), root);
    }
}
