package dev.sparkvit.storage;

/**
 * Writing an output the user named failed (a full or read-only file system, a permission): the message names the
 * path and the cause on one line, the command exits with code 2, and the log keeps the trace.
 */
public final class WriteFailedException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public WriteFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
