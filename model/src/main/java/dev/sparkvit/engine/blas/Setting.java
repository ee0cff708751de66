package dev.sparkvit.engine.blas;

import java.util.function.Function;

/**
 * A setting read from a system property, else from an environment variable (so spark.executorEnv can carry it to
 * executors). {@code source} names where the value came from, for error messages; {@code value} is null when neither
 * is set or both are blank.
 */
record Setting(String value, String source) {
    static Setting read(String property, String env, Function<String, String> properties,
            Function<String, String> environment) {
        String value = properties.apply(property);
        if (value != null && !value.isBlank()) {
            return new Setting(value, property);
        }
        value = environment.apply(env);
        return new Setting(value == null || value.isBlank() ? null : value, env);
    }
}
