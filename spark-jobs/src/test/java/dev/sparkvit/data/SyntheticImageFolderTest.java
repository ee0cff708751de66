package dev.sparkvit.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticImageFolderTest {

    @Test
    void writesImageFolderLayoutOfDecodableImages(@TempDir Path root) throws IOException {
        int written = new SyntheticImageFolder(16, 3, 42).writeTo(root);
        assertEquals(30, written);
        for (String label : SyntheticImageFolder.CLASSES) {
            List<Path> files;
            try (Stream<Path> list = Files.list(root.resolve(label))) {
                files = list.sorted().toList();
            }
            assertEquals(3, files.size(), "images in " + label + ": " + files);
            for (Path file : files) {
                BufferedImage image = ImageIO.read(file.toFile());
                assertEquals(16, image.getWidth());
                assertEquals(16, image.getHeight());
            }
        }
    }

    @Test
    void sameSeedGivesIdenticalFilesAndAnotherSeedDoesNot(@TempDir Path dir) throws IOException {
        new SyntheticImageFolder(16, 2, 42).writeTo(dir.resolve("a"));
        new SyntheticImageFolder(16, 2, 42).writeTo(dir.resolve("b"));
        new SyntheticImageFolder(16, 2, 43).writeTo(dir.resolve("c"));
        Path name = Path.of("disc", "disc_00001.png");
        byte[] a = Files.readAllBytes(dir.resolve("a").resolve(name));
        assertArrayEquals(a, Files.readAllBytes(dir.resolve("b").resolve(name)));
        assertFalse(Arrays.equals(a, Files.readAllBytes(dir.resolve("c").resolve(name))));
    }

    @Test
    void foregroundAndBackgroundDiffer(@TempDir Path root) throws IOException {
        new SyntheticImageFolder(32, 1, 7).writeTo(root);
        for (String label : SyntheticImageFolder.CLASSES) {
            BufferedImage image = ImageIO.read(root.resolve(label + "/" + label + "_00000.png").toFile());
            int min = 255;
            int max = 0;
            for (int y = 0; y < image.getHeight(); y++) {
                for (int x = 0; x < image.getWidth(); x++) {
                    int rgb = image.getRGB(x, y);
                    int luma = (299 * ((rgb >> 16) & 0xff) + 587 * ((rgb >> 8) & 0xff) + 114 * (rgb & 0xff)) / 1000;
                    min = Math.min(min, luma);
                    max = Math.max(max, luma);
                }
            }
            assertTrue(max - min > 50, label + ": pattern visible, brightness range " + min + " .. " + max);
        }
    }

    @Test
    void rejectsUnusableSizes() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> new SyntheticImageFolder(4, 1, 1));
        assertTrue(error.getMessage().contains("got 4"), error.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SyntheticImageFolder(16, 0, 1));
    }

    @Test
    void imageAtTheFolderSizeIsTheWrittenFileAndOtherSizesAreDrawnToo(@TempDir Path root) throws IOException {
        SyntheticImageFolder folder = new SyntheticImageFolder(16, 2, 5);
        folder.writeTo(root);
        BufferedImage written = ImageIO.read(root.resolve("ring/ring_00001.png").toFile());
        BufferedImage drawn = folder.image(SyntheticImageFolder.CLASSES.indexOf("ring"), 1, 16, 16);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                assertEquals(written.getRGB(x, y), drawn.getRGB(x, y), "pixel " + x + "," + y);
            }
        }
        BufferedImage wide = folder.image(0, 0, 40, 24);
        assertEquals(40, wide.getWidth());
        assertEquals(24, wide.getHeight());
        assertThrows(IllegalArgumentException.class, () -> folder.image(10, 0, 16, 16));
        assertThrows(IllegalArgumentException.class, () -> folder.image(0, 0, 16, 4));
    }
}
