package dev.sparkvit.cli;

/** Process exit codes of the {@code sparkvit} command, as documented in docs/USER-GUIDE.md, "Exit codes". */
public final class ExitCodes {
    /** The command did what was asked. */
    public static final int OK = 0;
    /** An unexpected failure inside sparkvit, Spark or the engine; the log has the stack trace. */
    public static final int INTERNAL = 1;
    /** A command-line option, config value or input the user can fix; the message names it. */
    public static final int BAD_INPUT = 2;
    /** retrain: no model was promoted (the candidate missed the quality gate, or nothing changed since a version). */
    public static final int NOT_PROMOTED = 3;
    /** Another run holds the lock of the registry (retrain) or of the dataset (ingest, retrain); nothing changed. */
    public static final int LOCK_HELD = 4;
    /**
     * Training stopped at an iteration whose loss or gradient was NaN or infinite (or a weights file would have held
     * such values); nothing was written after the checkpoint the message names.
     */
    public static final int NON_FINITE = 5;

    private ExitCodes() {
    }
}
