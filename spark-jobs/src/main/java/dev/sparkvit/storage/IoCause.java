package dev.sparkvit.storage;

import java.io.IOException;

/** The one line a failed read or write is reported with: the innermost I/O cause's message, not a trace. */
public final class IoCause {
    private IoCause() {
    }

    /**
     * The message of the innermost {@link IOException} in {@code failure}'s cause chain that has one (the file
     * system's own words: "No space left on device", "Read-only file system"), else the failure's message; its first
     * line only.
     */
    public static String of(Throwable failure) {
        String found = null;
        for (Throwable t = failure; t != null && t.getCause() != t; t = t.getCause()) {
            if (t instanceof IOException && t.getMessage() != null) {
                found = t.getMessage();
            }
        }
        String text = found != null ? found : String.valueOf(failure.getMessage());
        int newline = text.indexOf('\n');
        return newline < 0 ? text : text.substring(0, newline);
    }
}
