package dev.sparkvit.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.image.DecodeResult;
import dev.sparkvit.data.image.ImageDecoder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScaleInputsTest {

    @Test
    void everyFileIsAValidPngOfItsClassWithBytesOfItsOwn(@TempDir Path tmp) throws IOException {
        Path root = tmp.resolve("raw");
        assertEquals(23, ScaleInputs.generate(root, 23, 3, 4));
        List<Path> files;
        try (Stream<Path> walk = Files.walk(root)) {
            files = walk.filter(Files::isRegularFile).sorted().toList();
        }
        assertEquals(23, files.size());
        assertTrue(files.contains(root.resolve("c002/d00001/00000020.png")), files.toString()); // 20 = 6 * 3 + 2
        Set<String> contents = new HashSet<>();
        DecodeResult first = null;
        for (Path f : files) {
            byte[] bytes = Files.readAllBytes(f);
            assertTrue(contents.add(Arrays.toString(bytes)), "same bytes as another file: " + f);
            DecodeResult decoded = new ImageDecoder(8, 1_000_000).decode(bytes);
            assertNull(decoded.reason(), f + ": " + decoded.detail());
            assertEquals(16, decoded.image().width());
            if (f.getFileName().toString().equals("00000000.png")) {
                first = decoded;
            }
        }
        // the text chunk changes the bytes, not the pixels: file 3 is class 0's image as file 0
        DecodeResult again = new ImageDecoder(8, 1_000_000).decode(Files.readAllBytes(
                root.resolve("c000/d00000/00000003.png")));
        assertArrayEquals(first.image().pixels(), again.image().pixels());
        // a second call with the same parameters reuses the tree; other parameters write it again
        Files.delete(files.get(0));
        ScaleInputs.generate(root, 23, 3, 4);
        assertFalse(Files.exists(files.get(0)));
        ScaleInputs.generate(root, 24, 3, 4);
        assertTrue(Files.exists(files.get(0)));
    }

    @Test
    void aBrokenTextChunkIsRejectedSoTheCheckAboveMeansSomething() throws IOException {
        byte[] png = Files.readAllBytes(writeOne());
        png[8 + 25 + 8] ^= 1; // a byte of the text chunk's data: its CRC no longer matches
        DecodeResult decoded = new ImageDecoder(8, 1_000_000).decode(png);
        assertFalse(decoded.accepted(), "a PNG whose chunk fails its CRC");
    }

    private static Path writeOne() throws IOException {
        Path root = Files.createTempDirectory("scale-inputs").resolve("raw");
        ScaleInputs.generate(root, 1, 1, 1);
        return root.resolve("c000/d00000/00000000.png");
    }
}
