package dev.sparkvit.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;

/**
 * Writes files whole or not at all: the content goes to a temporary file in the same folder, which is then renamed
 * over the target atomically. A reader sees the old file or the new one, never a partial write.
 */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /** Writes the content of a file to {@code tmp}, a fresh name in the target's folder. */
    @FunctionalInterface
    public interface Content {
        void writeTo(Path tmp) throws IOException;
    }

    public static void write(Path file, Content content) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        // Not Files.createTempFile: its file is private to the owner (0600), and so would the target be. The content
        // creates the file itself, with the permissions of any other new file.
        Path tmp = parent.resolve("." + file.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            content.writeTo(tmp);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
