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
    void theTextChunkFollowsTheHeaderWithTheFileNumberAndAValidCrc(@TempDir Path tmp) throws IOException {
        Path root = tmp.resolve("raw");
        ScaleInputs.generate(root, 2, 1, 4);
        byte[] png = Files.readAllBytes(root.resolve("c000/d00000/00000001.png"));
        int at = 8 + 25;
        int length = java.nio.ByteBuffer.wrap(png, at, 4).getInt();
        assertEquals("tEXt", new String(png, at + 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1));
        assertEquals("n\0" + "1", new String(png, at + 8, length, java.nio.charset.StandardCharsets.ISO_8859_1));
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(png, at + 4, 4 + length);
        assertEquals((int) crc.getValue(), java.nio.ByteBuffer.wrap(png, at + 8 + length, 4).getInt());
    }
}
