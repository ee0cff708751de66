package dev.sparkvit.config;

/** A configuration a user got wrong; the message names the file, the key and the value. */
public final class ConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }
}
