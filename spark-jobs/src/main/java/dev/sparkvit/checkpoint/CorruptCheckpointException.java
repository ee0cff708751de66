package dev.sparkvit.checkpoint;

/**
 * A checkpoint that is incomplete, fails its checksum or cannot be parsed; the message names the file and what is
 * wrong. An input the user can act on (move it away, or resume from the previous one), so the CLI reports it in one
 * line with exit code 2, like other bad input.
 */
public final class CorruptCheckpointException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public CorruptCheckpointException(String message) {
        super(message);
    }
}
