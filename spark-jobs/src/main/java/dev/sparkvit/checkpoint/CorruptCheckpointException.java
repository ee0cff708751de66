package dev.sparkvit.checkpoint;

/** A checkpoint that is incomplete, fails its checksum or cannot be parsed; the message names the file. */
public final class CorruptCheckpointException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public CorruptCheckpointException(String message) {
        super(message);
    }
}
