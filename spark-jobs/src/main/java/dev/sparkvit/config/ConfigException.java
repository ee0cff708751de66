package dev.sparkvit.config;

/** A configuration a user got wrong; the message names the file, the key and the value. */
public final class ConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }

    /** Throws unless {@code ok}: "{source}: {key} = {value} is invalid: expected {expected}". */
    public static void require(boolean ok, String key, Object value, String expected, String source) {
        if (!ok) {
            throw new ConfigException(source + ": " + key + " = " + value + " is invalid: expected " + expected);
        }
    }
}
