package dev.sparkvit.report;

import dev.sparkvit.storage.AtomicFiles;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** Writes PNG files whole or not at all (see {@link AtomicFiles}). */
public final class PngFiles {
    private PngFiles() {
    }

    public static void write(BufferedImage image, Path file) throws IOException {
        AtomicFiles.write(file, tmp -> ImageIO.write(image, "png", tmp.toFile()));
    }
}
