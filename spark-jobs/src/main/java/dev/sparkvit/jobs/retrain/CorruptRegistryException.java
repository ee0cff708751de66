package dev.sparkvit.jobs.retrain;

/**
 * A registry file that is damaged (the production pointer, a version's files); the message names the file, what is
 * wrong and what to do. Nothing was changed. The CLI reports it in one line with exit code 2, like other bad input.
 */
public final class CorruptRegistryException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public CorruptRegistryException(String message) {
        super(message);
    }
}
