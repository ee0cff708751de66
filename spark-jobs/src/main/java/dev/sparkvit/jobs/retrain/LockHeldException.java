package dev.sparkvit.jobs.retrain;

/** Another retrain run holds the registry's lock; this run changed nothing. */
public final class LockHeldException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LockHeldException(String message) {
        super(message);
    }
}
