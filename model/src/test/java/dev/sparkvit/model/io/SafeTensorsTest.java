package dev.sparkvit.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {

    private static Map<String, NamedTensor> sample() {
        Map<String, NamedTensor> tensors = new LinkedHashMap<>();
        tensors.put("a.weight", new NamedTensor(new int[] {2, 3}, new float[] {1, -2, 3.5f, 0, 1e-7f, -1e9f}));
        tensors.put("cls_token", new NamedTensor(new int[] {1, 1, 2}, new float[] {0.25f, -0.5f}));
        tensors.put("scalar", new NamedTensor(new int[0], new float[] {42f}));
        return tensors;
    }

    @Test
    void theSameContentGivesTheSameBytesWhateverTheMetadataOrder(@TempDir Path dir) throws IOException {
        Map<String, NamedTensor> tensors = Map.of("w", new NamedTensor(new int[] {2}, new float[] {1, 2}));
        Map<String, String> forward = new LinkedHashMap<>();
        forward.put("a", "1");
        forward.put("b", "2");
        Map<String, String> backward = new LinkedHashMap<>();
        backward.put("b", "2");
        backward.put("a", "1");
        SafeTensors.write(dir.resolve("one.safetensors"), tensors, forward);
        SafeTensors.write(dir.resolve("two.safetensors"), tensors, backward);
        assertArrayEquals(Files.readAllBytes(dir.resolve("one.safetensors")),
                Files.readAllBytes(dir.resolve("two.safetensors")));
    }

    @Test
    void writeThenReadGivesBackTensorsAndMetadata(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("w.safetensors");
        SafeTensors.write(file, sample(), Map.of("format", "pt", "note", "x"));
        SafeTensors.Contents contents = SafeTensors.read(file);
        assertEquals(sample(), contents.tensors());
        assertEquals("pt", contents.metadata().get("format"));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    /** The header alone gives the metadata read gives (without the data hash), for a file whose data is damaged too. */
    @Test
    void metadataIsReadFromTheHeaderAlone(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("w.safetensors");
        SafeTensors.write(file, sample(), Map.of("format", "pt", "run/dataset_snapshot", "42"));
        assertEquals(SafeTensors.read(file).metadata(), SafeTensors.metadata(file));
        assertEquals(Map.of("format", "pt", "run/dataset_snapshot", "42"), SafeTensors.metadata(file));
        byte[] bytes = java.nio.file.Files.readAllBytes(file);
        bytes[bytes.length - 1] ^= 1; // a flipped data bit: read refuses the file, the header still reads
        java.nio.file.Files.write(file, bytes);
        org.junit.jupiter.api.Assertions.assertThrows(SafeTensors.InvalidFileException.class,
                () -> SafeTensors.read(file));
        assertEquals("42", SafeTensors.metadata(file).get("run/dataset_snapshot"));
        java.nio.file.Files.write(file, new byte[] {1, 2, 3});
        org.junit.jupiter.api.Assertions.assertThrows(SafeTensors.InvalidFileException.class,
                () -> SafeTensors.metadata(file));
    }

    @Test
    void readsHalfAndBfloatAndDouble(@TempDir Path dir) throws IOException {
        // 1.0, -2.0 and 65504 (largest half) in F16; 1.5 in BF16; 0.1 in F64
        ByteBuffer data = ByteBuffer.allocate(6 + 2 + 8).order(ByteOrder.LITTLE_ENDIAN);
        data.putShort((short) 0x3c00).putShort((short) 0xc000).putShort((short) 0x7bff);
        data.putShort((short) (Float.floatToIntBits(1.5f) >>> 16));
        data.putDouble(0.1);
        String header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[6,8]},"
                + "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[8,16]}}";
        Path file = dir.resolve("mixed.safetensors");
        Files.write(file, raw(header, data.array()));
        Map<String, NamedTensor> tensors = SafeTensors.read(file).tensors();
        assertArrayEquals(new float[] {1f, -2f, 65504f}, tensors.get("h").values());
        assertArrayEquals(new float[] {1.5f}, tensors.get("b").values());
        assertArrayEquals(new float[] {0.1f}, tensors.get("d").values());
    }

    @Test
    void halfPrecisionSubnormalsAndSpecials() {
        assertEquals(0x1p-24f, SafeTensors.halfToFloat((short) 0x0001));
        assertEquals(Float.POSITIVE_INFINITY, SafeTensors.halfToFloat((short) 0x7c00));
        assertTrue(Float.isNaN(SafeTensors.halfToFloat((short) 0x7e00)));
        assertEquals(-0.0f, SafeTensors.halfToFloat((short) 0x8000));
    }

    private static byte[] raw(String header, byte[] data) {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(json.length).put(json).put(data);
        return out.array();
    }

    private static void assertRejected(Path dir, byte[] content, String expectedFragment) throws IOException {
        Path file = dir.resolve("bad.safetensors");
        Files.write(file, content);
        IOException error = assertThrows(IOException.class, () -> SafeTensors.read(file));
        assertTrue(error.getMessage().contains(file.toString()), error.getMessage());
        assertTrue(error.getMessage().contains(expectedFragment), error.getMessage());
    }

    @Test
    void malformedFilesAreRejectedNamingTheFileAndTheProblem(@TempDir Path dir) throws IOException {
        assertRejected(dir, new byte[3], "shorter than the 8-byte header length");
        assertRejected(dir, truncatedHeader(), "does not fit");
        assertRejected(dir, raw("not json", new byte[0]), "not valid JSON");
        assertRejected(dir, raw("{\"x\":{\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[0,1]}}", new byte[1]),
                "dtype 'I8'");
        assertRejected(dir, raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", new byte[4]),
                "inconsistent");
        assertRejected(dir, raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[8]),
                "trailing data bytes");
        assertRejected(dir, raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", new byte[4]),
                "invalid dimension");
    }

    private static byte[] truncatedHeader() {
        ByteBuffer out = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(1000).put(new byte[4]);
        return out.array();
    }

    @Test
    void aFailedWriteLeavesTheExistingFileIntact(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("w.safetensors");
        SafeTensors.write(file, sample(), Map.of());
        byte[] before = Files.readAllBytes(file);
        Map<String, NamedTensor> bad = new LinkedHashMap<>(sample());
        bad.put("__metadata__", new NamedTensor(new int[] {1}, new float[] {1}));
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(file, bad, Map.of()));
        assertTrue(Arrays.equals(before, Files.readAllBytes(file)));
    }

    @Test
    void aFlippedBitInTheDataIsCaughtByTheChecksumTheWriterRecords(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("w.safetensors");
        SafeTensors.write(file, sample(), Map.of("format", "pt"));
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 2] ^= 0x04; // inside the last float: the structure stays valid
        Files.write(file, bytes);
        SafeTensors.InvalidFileException error = assertThrows(SafeTensors.InvalidFileException.class,
                () -> SafeTensors.read(file));
        assertTrue(error.getMessage().startsWith(file + " is not a valid safetensors file: the SHA-256 of its data"),
                error.getMessage());
    }

    @Test
    void theRecordedChecksumIsNotPartOfTheMetadataReadBack(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("w.safetensors");
        SafeTensors.write(file, sample(), Map.of("format", "pt"));
        assertTrue(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1).contains("\"data_sha256\""));
        assertEquals(Map.of("format", "pt"), SafeTensors.read(file).metadata());
    }

    @Test
    void truncatedOrForeignFilesAreRejectedNamingTheFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("w.safetensors");
        SafeTensors.write(file, sample(), Map.of());
        byte[] whole = Files.readAllBytes(file);
        for (int keep : new int[] {whole.length - 1, whole.length / 2, 20, 7, 0}) {
            Path cut = dir.resolve("cut-" + keep + ".safetensors");
            Files.write(cut, Arrays.copyOf(whole, keep));
            SafeTensors.InvalidFileException error = assertThrows(SafeTensors.InvalidFileException.class,
                    () -> SafeTensors.read(cut), "cut at " + keep);
            assertTrue(error.getMessage().startsWith(cut + " is not a valid safetensors file: "), error.getMessage());
        }
        // a PNG signature and a text file given as weights
        Path png = dir.resolve("image.safetensors");
        Files.write(png, new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'});
        assertTrue(assertThrows(SafeTensors.InvalidFileException.class, () -> SafeTensors.read(png)).getMessage()
                .contains("does not fit a 16-byte file"));
        Path text = dir.resolve("notes.safetensors");
        Files.writeString(text, "these are not weights, just a text file of some length\n");
        assertTrue(assertThrows(SafeTensors.InvalidFileException.class, () -> SafeTensors.read(text)).getMessage()
                .startsWith(text + " is not a valid safetensors file"));
    }

    @Test
    void messagesStayOnOneLineWhateverTheFileHolds(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("bad.safetensors");
        Files.write(file, raw("{\"x\\ny\":{\"dtype\":\"I8\\r\",\"shape\":[1],\"data_offsets\":[0,1]}}",
                new byte[1]));
        String message = assertThrows(IOException.class, () -> SafeTensors.read(file)).getMessage();
        assertTrue(message.contains("dtype") && !message.contains("\n") && !message.contains("\r"), message);
        Files.write(file, raw("{\"x\": [1,\n2,", new byte[0]));
        message = assertThrows(IOException.class, () -> SafeTensors.read(file)).getMessage();
        assertTrue(message.contains("not valid JSON") && !message.contains("\n"), message);
        Files.write(file, raw("{\"__metadata__\": [1]}", new byte[0]));
        assertTrue(assertThrows(IOException.class, () -> SafeTensors.read(file)).getMessage()
                .contains("__metadata__ is not a JSON object"));
    }
}
