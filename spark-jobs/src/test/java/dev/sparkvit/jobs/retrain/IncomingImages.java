package dev.sparkvit.jobs.retrain;

import dev.sparkvit.data.SyntheticImageFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** New images arriving in a retrain's input folder {@code tmp/incoming}, as a scheduled retrain finds them. */
final class IncomingImages {
    private IncomingImages() {
    }

    /** Adds {@code perClass} new images per class under {@code tmp/incoming}, named with {@code prefix}. */
    static void arrive(Path tmp, int perClass, long seed, String prefix) throws IOException {
        Path staging = tmp.resolve("staging-" + prefix);
        new SyntheticImageFolder(16, perClass, seed).writeTo(staging);
        try (Stream<Path> files = Files.walk(staging)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                Path target = tmp.resolve("incoming").resolve(staging.relativize(file).getParent())
                        .resolve(prefix + "-" + file.getFileName());
                Files.createDirectories(target.getParent());
                Files.copy(file, target);
            }
        }
    }
}
