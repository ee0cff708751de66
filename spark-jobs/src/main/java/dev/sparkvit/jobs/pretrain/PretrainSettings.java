package dev.sparkvit.jobs.pretrain;

import dev.sparkvit.config.Setting;
import dev.sparkvit.config.SettingValues;
import java.util.Map;

/**
 * A SimCLR pretraining run (the training guide's phase 1), validated: the values of {@link PretrainKeys}' settings,
 * read from YAML by {@link PretrainConfig}. Code asks for a value with {@code get(PretrainKeys.X)}.
 */
public final class PretrainSettings {
    private final SettingValues values;

    PretrainSettings(SettingValues values) {
        this.values = values;
    }

    /** The value of {@code setting}, one of {@link PretrainKeys}'. */
    public <T> T get(Setting<T> setting) {
        return values.get(setting);
    }

    /** Where the settings came from (the job file), for messages. */
    public String source() {
        return values.source();
    }

    /** The settings that must not change on resume, as text (stored in checkpoints and compared). */
    public Map<String, String> fingerprint() {
        return values.fingerprint();
    }

    /** Every value and the source, as text. */
    @Override
    public String toString() {
        return "PretrainSettings" + values;
    }

    /** The model preset's name. */
    public String preset() {
        return get(PretrainKeys.MODEL).preset();
    }
}
