/**
 * YAML configuration, checked in full before Spark starts: {@link dev.sparkvit.config.YamlConfig} composes a file,
 * its {@code include}s and the {@code --set} overrides into sections that remember file and line;
 * {@link dev.sparkvit.config.ConfigSection} reads keys with type, default and range and rejects unknown ones;
 * {@link dev.sparkvit.config.ConfigException} is the one-line error (exit code 2). A setting is declared once as a
 * {@link Setting} (key, type, default, range, one-line doc, fingerprint rendering) in a job's {@link SettingList};
 * reading gives {@link SettingValues} ({@code get(KEY)}, the run fingerprint). {@link KeyLog} and
 * {@link ConfigReference} make docs/CONFIG.md from the readers and the declarations. The declarations are the jobs'
 * {@code *Keys} classes, read by their {@code *Config} classes. It imports only {@link dev.sparkvit.storage} (remote
 * paths), which imports no sparkvit package.
 */
package dev.sparkvit.config;
