package dev.sparkvit.model.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Weights files from elsewhere are untrusted input (docs/SECURITY.md): a hostile safetensors file must end in an
 * IOException naming the file and the problem, never in a StackOverflowError, an OutOfMemoryError, a negative
 * allocation or an out-of-bounds read.
 */
class SafeTensorsHostileFilesTest {
    @TempDir
    Path dir;

    private static byte[] file(long declaredHeaderLength, byte[] header, byte[] data) {
        ByteBuffer out = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(declaredHeaderLength).put(header).put(data);
        return out.array();
    }

    private static byte[] file(String header, byte[] data) {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        return file(json.length, json, data);
    }

    private String rejected(byte[] content, String expectedFragment) throws IOException {
        Path file = dir.resolve("hostile.safetensors");
        Files.write(file, content);
        return rejected(file, expectedFragment);
    }

    private static String rejected(Path file, String expectedFragment) {
        IOException error = assertThrows(IOException.class, () -> SafeTensors.read(file));
        String message = error.getMessage();
        assertTrue(message.contains(file.toString()), message);
        assertTrue(message.contains(expectedFragment), message);
        assertEquals(-1, message.indexOf('\n'), "one line: " + message);
        return message;
    }

    @Test
    void deeplyNestedHeaderJsonIsRejectedWithoutRecursion() throws IOException {
        // Spark 3.1's Jackson 2.10 builds trees recursively: 200,000 levels overflowed the stack (CVE-2020-36518)
        int depth = 200_000;
        String nested = "[".repeat(depth) + "]".repeat(depth);
        rejected(file("{\"__metadata__\":{\"a\":" + nested + "}}", new byte[0]), "nested deeper than");
        rejected(file("{\"x\":{\"dtype\":\"F32\",\"shape\":" + nested + ",\"data_offsets\":[0,0]}}", new byte[0]),
                "nested deeper than");
        String objects = "{\"a\":".repeat(depth) + "1" + "}".repeat(depth);
        rejected(file(objects, new byte[0]), "nested deeper than");
    }

    @Test
    void hugeNumbersAreRejectedBeforeJacksonParsesThem() throws IOException {
        // Jackson 2.10 turns an integer literal into a BigInteger, quadratic in its digits: 2 million digits took
        // minutes; Jackson 2.15 added a 1000-character limit for the same reason
        String digits = "1".repeat(2_000_000);
        rejected(file("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0," + digits + "]}}", new byte[4]),
                "a number of 2000000 characters");
        rejected(file("{\"__metadata__\":{\"a\":" + digits + ".5}}", new byte[0]), "a number of 2000002 characters");
    }

    @Test
    void headerLengthsThatCannotBeTrueAreRejectedBeforeAllocation() throws IOException {
        byte[] small = "{}".getBytes(StandardCharsets.UTF_8);
        rejected(file(Long.MAX_VALUE, small, new byte[0]), "does not fit");
        rejected(file(Long.MIN_VALUE, small, new byte[0]), "does not fit");
        rejected(file(-1, small, new byte[0]), "does not fit");
        rejected(file(1L << 40, small, new byte[0]), "does not fit");
        rejected(file(0, small, new byte[0]), "does not fit");
    }

    @Test
    void shapesAndOffsetsThatDisagreeWithTheFileAreRejected() throws IOException {
        // 2^32 elements declared in a 16-byte data section
        rejected(file("{\"x\":{\"dtype\":\"F32\",\"shape\":[65536,65536],\"data_offsets\":[0,16]}}", new byte[16]),
                "more elements");
        // offsets past the end of the file, negative, reversed, overlapping, and with a gap
        rejected(file("{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,1600000000]}}", new byte[16]),
                "inconsistent");
        rejected(file("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", new byte[4]),
                "inconsistent");
        rejected(file("{\"x\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}", new byte[4]),
                "inconsistent");
        rejected(file("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]), "inconsistent");
        rejected(file("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", new byte[12]), "inconsistent");
        // offsets and dimensions must be whole numbers (Jackson would read 1.5 as 1)
        rejected(file("{\"x\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", new byte[4]),
                "invalid dimension");
        rejected(file("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.0]}}", new byte[4]),
                "no valid data_offsets");
        rejected(file("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,\"4\"]}}", new byte[4]),
                "no valid data_offsets");
    }

    @Test
    void aTensorNamedTwiceIsRejectedAsADuplicate() throws IOException {
        // with the last one winning, the first one's bytes would silently belong to no tensor
        rejected(file("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]), "Duplicate field 'x'");
    }

    @Test
    void aTensorLargerThanAJavaArrayIsAClearErrorNotANegativeAllocation() throws IOException {
        // a real 2.5 GB data section, as a sparse file (no disk space used): one F32 tensor of 625 M values whose
        // 2.5e9 bytes do not fit a Java array; the cast to int used to make the allocation size negative
        long bytes = 2_500_000_000L;
        byte[] json = ("{\"x\":{\"dtype\":\"F32\",\"shape\":[625000000],\"data_offsets\":[0," + bytes + "]}}")
                .getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve("sparse.safetensors");
        Files.write(file, file(json.length, json, new byte[0]));
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(8 + json.length + bytes);
        }
        rejected(file, "larger than");
    }
    /**
     * Issue 20, defect 8: a sparkvit file re-saved by Python's {@code safetensors.save_file} with its metadata kept
     * (the library writes tensors in name order) was refused as "changed after it was written", though every value
     * is the same. The message now says that the checksum covers the byte order, and how to re-save.
     */
    @Test
    void aFileReSavedInNameOrderWithItsChecksumKeptIsNamedAsReorderedNotChanged() throws IOException {
        Path written = dir.resolve("sparkvit.safetensors");
        java.util.Map<String, NamedTensor> tensors = new java.util.LinkedHashMap<>();
        tensors.put("patch_embed.proj.weight", new NamedTensor(new int[] {2}, new float[] {1, 2}));
        tensors.put("blocks.0.norm1.weight", new NamedTensor(new int[] {3}, new float[] {3, 4, 5}));
        SafeTensors.write(written, tensors, java.util.Map.of("preset", "p"));
        byte[] bytes = Files.readAllBytes(written);
        int headerLength = (int) ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        java.util.regex.Matcher recorded = java.util.regex.Pattern.compile("\"" + SafeTensors.DATA_SHA256
                + "\":\"([0-9a-f]{64})\"").matcher(new String(bytes, 8, headerLength, StandardCharsets.UTF_8));
        assertTrue(recorded.find());
        String checksum = recorded.group(1);
        // what save_file writes: the same metadata (checksum included), the tensors sorted by name
        String header = "{\"__metadata__\":{\"preset\":\"p\",\"" + SafeTensors.DATA_SHA256 + "\":\"" + checksum
                + "\"},\"blocks.0.norm1.weight\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
                + "\"patch_embed.proj.weight\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}";
        ByteBuffer data = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : new float[] {3, 4, 5, 1, 2}) {
            data.putFloat(v);
        }
        String message = rejected(file(header, data.array()), "the checksum covers the bytes in their written order");
        assertTrue(message.contains("name order") && message.contains("save_file")
                && message.contains("re-save without the " + SafeTensors.DATA_SHA256), message);
    }
}
