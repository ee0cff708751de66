package dev.sparkvit.model.io;

import java.io.IOException;

/** A file that is not a well-formed safetensors file (as opposed to one that cannot be read); names the file. */
public final class InvalidSafeTensorsException extends IOException {
    private static final long serialVersionUID = 1L;

    public InvalidSafeTensorsException(String message) {
        super(message);
    }
}
