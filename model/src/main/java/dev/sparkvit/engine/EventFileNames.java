package dev.sparkvit.engine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * DLlib's {@code TrainSummary} names an event file {@code bigdl.tfevents.<epoch seconds>.<host>} and opens it with
 * truncation, so a second writer in the same folder within the same second (a resumed run after a short one, a
 * restarted attempt) would erase the first's events (docs/ENGINE.md).
 */
public final class EventFileNames {
    private EventFileNames() {
    }

    /** Waits until the clock has passed the second of every event file in {@code folder}. */
    public static void waitForAFreshName(Path folder) {
        long newest = -1;
        if (Files.isDirectory(folder)) {
            try (Stream<Path> files = Files.list(folder)) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    String[] parts = file.getFileName().toString().split("\\.");
                    if (parts.length >= 3 && parts[0].equals("bigdl") && parts[1].equals("tfevents")) {
                        try {
                            newest = Math.max(newest, Long.parseLong(parts[2]));
                        } catch (NumberFormatException ignored) {
                            // not one of DLlib's names
                        }
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + folder, e);
            }
        }
        while (System.currentTimeMillis() / 1000 <= newest) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for a fresh event file name", e);
            }
        }
    }
}
