package dev.sparkvit.lock;

/** Another run holds the lock of a registry or dataset ({@link FolderLock}); this run changed nothing. */
public final class LockHeldException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LockHeldException(String message) {
        super(message);
    }
}
