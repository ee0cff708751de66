package dev.sparkvit.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.image.DecodeResult;
import dev.sparkvit.data.image.ImageDecoder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchInputsTest {

    private static List<Path> files(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile).sorted().toList();
        }
    }

    @Test
    void writesDecodableJpegAndPngFilesAtPhotoSizesInImageFolderLayout(@TempDir Path dir) throws IOException {
        Path root = new BenchInputs(2).writeOrReuse(dir);
        List<Path> files = files(root);
        assertEquals(20, files.size());
        assertEquals(10, files.stream().filter(p -> p.toString().endsWith(".jpg")).count());
        ImageDecoder decoder = new ImageDecoder(8, 100_000_000L);
        for (Path file : files) {
            assertEquals(root, file.getParent().getParent(), "class folder of " + file);
            DecodeResult decoded = decoder.decode(Files.readAllBytes(file));
            assertTrue(decoded.accepted(), file + ": " + decoded.detail());
            int shorter = Math.min(decoded.image().width(), decoded.image().height());
            assertTrue(shorter >= 240 && shorter <= 360, file + " shorter side " + shorter);
        }
    }

    @Test
    void theSameSetIsReusedAndAnotherOneReplacesIt(@TempDir Path dir) throws IOException {
        Path root = new BenchInputs(1).writeOrReuse(dir);
        Path first = files(root).get(0);
        FileTime old = FileTime.fromMillis(0);
        Files.setLastModifiedTime(first, old);
        new BenchInputs(1).writeOrReuse(dir);
        assertEquals(old, Files.getLastModifiedTime(first), "reused, not rewritten");
        new BenchInputs(2).writeOrReuse(dir);
        assertEquals(20, files(root).size());
        assertThrows(IllegalArgumentException.class, () -> new BenchInputs(0));
    }
}
