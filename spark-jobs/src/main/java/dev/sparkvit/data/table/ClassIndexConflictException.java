package dev.sparkvit.data.table;

/**
 * A writer's class index no longer extends the table's: another writer committed new classes while this one ran, so
 * label indexes in this writer's rows would name the wrong classes. Nothing was committed; the message is one line.
 */
public final class ClassIndexConflictException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ClassIndexConflictException(String message) {
        super(message);
    }
}
