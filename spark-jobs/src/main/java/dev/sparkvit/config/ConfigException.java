package dev.sparkvit.config;

/** A configuration a user got wrong; the message names the file, the key and the value. */
public final class ConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** {@code message} on one line: line breaks and other control characters are shown escaped. */
    public ConfigException(String message) {
        super(oneLine(message));
    }

    private static String oneLine(String text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            if (c == '\n') {
                out.append("\\n");
            } else if (Character.isISOControl(c) && c != '\t') {
                out.append(String.format("\\u%04x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }

    /** A value as shown in a message: control characters escaped, cut to 200 characters with its full length. */
    public static String shown(String value) {
        String line = oneLine(value);
        return line.length() <= 200 ? line : line.substring(0, 200) + "... (" + value.length() + " characters)";
    }

    /** Throws unless {@code ok}: "{source}: {key} = {value} is invalid: expected {expected}". */
    public static void require(boolean ok, String key, Object value, String expected, String source) {
        if (!ok) {
            throw new ConfigException(source + ": " + key + " = " + value + " is invalid: expected " + expected);
        }
    }
}
