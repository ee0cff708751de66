package dev.sparkvit.model.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header mapping each name to
 * {@code dtype}, {@code shape} and {@code data_offsets} (plus an optional {@code __metadata__} map of strings), then
 * the raw little-endian data. No code is executed and nothing is deserialised, so files from anywhere are safe to
 * read. Reads F32, F16, BF16 and F64 (converted to float); writes F32. Every structural error names the file, on one
 * line.
 *
 * <p>The format has no checksum, so a flipped bit in the data of a weights file would load silently. sparkvit's
 * writer therefore records the SHA-256 of the data bytes in the metadata under {@value #DATA_SHA256}, and the reader
 * verifies it when present (other tools ignore unknown metadata; files without it, such as timm exports, are read
 * as before). The key is not part of the metadata {@link #read} returns.
 */
public final class SafeTensors {
    /** Upper bound on the JSON header, as the reference implementation (100 MB). */
    private static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    /** Metadata key of the data section's SHA-256 (lower-case hex), written by sparkvit and checked on read. */
    public static final String DATA_SHA256 = "data_sha256";
    /** The largest Java array: one tensor's bytes are read into one buffer. */
    private static final long MAX_TENSOR_BYTES = Integer.MAX_VALUE - 8;
    /** A name given twice would leave the first one's bytes to no tensor; say so instead. */
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private SafeTensors() {
    }

    /** The tensors and metadata of one file. */
    public record Contents(Map<String, NamedTensor> tensors, Map<String, String> metadata) {
    }

    /** A file that is not a valid safetensors file (truncated, changed, or another format); the message names it. */
    public static final class InvalidFileException extends IOException {
        private static final long serialVersionUID = 1L;

        InvalidFileException(String message) {
            super(message);
        }
    }

    /**
     * The metadata of {@code file} from its header alone (no tensor is read, no data hash checked): what a caller
     * needs before the whole file, such as the settings a checkpoint records.
     *
     * @throws InvalidFileException when the header is not a valid safetensors header
     */
    public static Map<String, String> metadata(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            JsonNode meta = header(channel, file).path("__metadata__");
            Map<String, String> metadata = new LinkedHashMap<>();
            if (meta.isObject()) {
                meta.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
            }
            metadata.remove(DATA_SHA256);
            return metadata;
        }
    }

    /** The JSON header of {@code file}, checked to be an object; leaves the channel's position at the data. */
    private static JsonNode header(FileChannel channel, Path file) throws IOException {
        long size = channel.size();
        if (size < 8) {
            throw invalid(file, "it is " + size + " bytes, shorter than the 8-byte header length");
        }
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, lengthBytes, 0);
        long headerLength = lengthBytes.flip().getLong();
        if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES || 8 + headerLength > size) {
            throw invalid(file, "header length " + headerLength + " does not fit a " + size + "-byte file");
        }
        ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
        readFully(channel, headerBytes, 8);
        channel.position(8 + headerLength);
        JsonNode header;
        try {
            JsonLimits.check(headerBytes.array()); // before the tree: Jackson 2.10 has no limits of its own
            header = JSON.readTree(new String(headerBytes.array(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            // Jackson's own message continues on a second line with the location; keep the first
            throw invalid(file, "header is not valid JSON: " + (e instanceof JsonProcessingException j
                    ? j.getOriginalMessage() : e.getMessage()));
        }
        if (header == null || !header.isObject()) {
            throw invalid(file, "header is not a JSON object");
        }
        return header;
    }

    /**
     * Reads every tensor of {@code file}, in data order.
     *
     * @throws InvalidFileException when the file is not a valid safetensors file (or its data fails the recorded
     *     SHA-256); the message names the file and the problem
     * @throws IOException when the file cannot be read at all
     */
    public static Contents read(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            JsonNode header = header(channel, file);
            long headerLength = channel.position() - 8;
            long dataStart = 8 + headerLength;
            long dataSize = size - dataStart;

            Map<String, String> metadata = new LinkedHashMap<>();
            List<Map.Entry<String, JsonNode>> entries = new ArrayList<>();
            Iterator<Map.Entry<String, JsonNode>> fields = header.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                if (field.getKey().equals("__metadata__")) {
                    if (!field.getValue().isObject()) {
                        throw invalid(file, "__metadata__ is not a JSON object");
                    }
                    field.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                } else {
                    entries.add(field);
                }
            }
            entries.sort(Comparator.comparingLong(e -> e.getValue().path("data_offsets").path(0).asLong()));

            Map<String, NamedTensor> tensors = new LinkedHashMap<>();
            MessageDigest digest = sha256();
            long expectedStart = 0;
            for (Map.Entry<String, JsonNode> entry : entries) {
                String name = entry.getKey();
                JsonNode info = entry.getValue();
                DType dtype = DType.parse(info.path("dtype").asText(), file, name);
                int[] shape = shape(info.path("shape"), file, name);
                JsonNode offsets = info.path("data_offsets");
                if (!info.isObject() || !offsets.isArray() || offsets.size() != 2 || !isWhole(offsets.get(0))
                        || !isWhole(offsets.get(1))) {
                    throw invalid(file, "tensor '" + name + "' has no valid data_offsets");
                }
                long begin = offsets.get(0).asLong();
                long end = offsets.get(1).asLong();
                long count = elementCount(shape, file, name);
                if (begin != expectedStart || end < begin || end > dataSize || end - begin != count * dtype.bytes) {
                    throw invalid(file, "tensor '" + name + "' has data_offsets [" + begin + ", " + end
                            + "] inconsistent with its shape/dtype or the file (" + dataSize + " data bytes)");
                }
                if (end - begin > MAX_TENSOR_BYTES) {
                    throw invalid(file, "tensor '" + name + "' is " + (end - begin) + " bytes, larger than the "
                            + MAX_TENSOR_BYTES + " one tensor can hold in sparkvit");
                }
                expectedStart = end;
                ByteBuffer data = ByteBuffer.allocate((int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
                readFully(channel, data, dataStart + begin);
                digest.update(data.array());
                data.flip();
                tensors.put(name, new NamedTensor(shape, dtype.decode(data, (int) count)));
            }
            if (expectedStart != dataSize) {
                throw invalid(file, (dataSize - expectedStart) + " trailing data bytes belong to no tensor");
            }
            String recorded = metadata.remove(DATA_SHA256);
            String actual = HexFormat.of().formatHex(digest.digest());
            if (recorded != null && !recorded.equals(actual)) {
                // the checksum covers the data bytes in the order they were written, not the values: a writer that
                // reorders tensors (Python's safetensors.save_file sorts them by name) fails it with the values kept
                List<String> order = new ArrayList<>(tensors.keySet());
                List<String> byName = new ArrayList<>(order);
                byName.sort(Comparator.naturalOrder());
                String reorder = "the checksum covers the bytes in their written order; re-save without the "
                        + DATA_SHA256 + " metadata key (docs/FINETUNING.md)";
                throw invalid(file, "the SHA-256 of its data, " + actual + ", is not the " + shown(recorded)
                        + " its header records: " + (order.size() > 1 && order.equals(byName)
                        ? "its tensors are in name order, as Python's safetensors.save_file writes them, so it was "
                                + "most likely re-saved with its metadata kept, values unchanged: " + reorder
                        : "the data was changed after it was written (or re-saved by a writer that reorders "
                                + "tensors: " + reorder + ")"));
            }
            return new Contents(tensors, metadata);
        }
    }

    /**
     * Writes the tensors as F32 with the given metadata. The file appears whole or not at all: data goes to a
     * temporary file in the same folder, is forced to disk, then atomically renamed over {@code file}.
     */
    public static void write(Path file, Map<String, NamedTensor> tensors, Map<String, String> metadata)
            throws IOException {
        ObjectNode header = JSON.createObjectNode();
        ObjectNode meta = header.putObject("__metadata__");
        // sorted: the same tensors and metadata give the same bytes whatever map the caller passed
        java.util.TreeMap<String, String> sorted = new java.util.TreeMap<>(metadata);
        sorted.put(DATA_SHA256, dataSha256(tensors.values()));
        sorted.forEach(meta::put);
        long offset = 0;
        for (Map.Entry<String, NamedTensor> entry : tensors.entrySet()) {
            if (entry.getKey().equals("__metadata__") || entry.getKey().isEmpty()) {
                throw new IllegalArgumentException("'" + entry.getKey() + "' is not a valid tensor name");
            }
            ObjectNode info = header.putObject(entry.getKey());
            info.put("dtype", "F32");
            ArrayNode shape = info.putArray("shape");
            for (int d : entry.getValue().shape()) {
                shape.add(d);
            }
            long bytes = 4L * entry.getValue().values().length;
            info.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padding = (8 - json.length % 8) % 8; // keep the data 8-byte aligned, as the reference writer does
        byte[] headerBytes = new byte[json.length + padding];
        System.arraycopy(json, 0, headerBytes, 0, json.length);
        for (int i = json.length; i < headerBytes.length; i++) {
            headerBytes[i] = ' ';
        }

        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempFile(parent, "." + file.getFileName(), ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING); OutputStream out = java.nio.channels.Channels
                    .newOutputStream(channel)) {
                ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
                        .putLong(headerBytes.length);
                out.write(length.array());
                out.write(headerBytes);
                for (NamedTensor tensor : tensors.values()) {
                    ByteBuffer data = ByteBuffer.allocate(4 * tensor.values().length).order(ByteOrder.LITTLE_ENDIAN);
                    data.asFloatBuffer().put(tensor.values());
                    out.write(data.array());
                }
                out.flush();
                channel.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private enum DType {
        F32(4), F16(2), BF16(2), F64(8);

        final int bytes;

        DType(int bytes) {
            this.bytes = bytes;
        }

        static DType parse(String text, Path file, String name) throws IOException {
            try {
                return DType.valueOf(text);
            } catch (IllegalArgumentException e) {
                throw invalid(file, "tensor '" + name + "' has dtype '" + text
                        + "'; sparkvit reads F32, F16, BF16 and F64");
            }
        }

        float[] decode(ByteBuffer data, int count) {
            float[] values = new float[count];
            for (int i = 0; i < count; i++) {
                values[i] = switch (this) {
                    case F32 -> data.getFloat();
                    case F64 -> (float) data.getDouble();
                    case F16 -> halfToFloat(data.getShort());
                    case BF16 -> Float.intBitsToFloat((data.getShort() & 0xffff) << 16);
                };
            }
            return values;
        }
    }

    /** IEEE 754 binary16 to float (Java 17 has no Float.float16ToFloat). */
    static float halfToFloat(short half) {
        int bits = half & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1f;
        int mantissa = bits & 0x3ff;
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13)); // infinity or NaN
        }
        if (exponent == 0) {
            float magnitude = mantissa * 0x1p-24f; // zero or subnormal
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    private static int[] shape(JsonNode node, Path file, String name) throws IOException {
        if (!node.isArray()) {
            throw invalid(file, "tensor '" + name + "' has no shape array");
        }
        int[] shape = new int[node.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!isWhole(node.get(i)) || !node.get(i).canConvertToInt() || node.get(i).asInt() < 0) {
                throw invalid(file, "tensor '" + name + "' has an invalid dimension " + node.get(i));
            }
            shape[i] = node.get(i).asInt();
        }
        return shape;
    }

    /** An integer JSON number that fits a long (Jackson reads 1.5 as 1 and "4" as 4 otherwise). */
    private static boolean isWhole(JsonNode node) {
        return node.isIntegralNumber() && node.canConvertToLong();
    }

    private static long elementCount(int[] shape, Path file, String name) throws IOException {
        long count = 1;
        for (int d : shape) {
            count *= d;
            if (count > Integer.MAX_VALUE) {
                throw invalid(file, "tensor '" + name + "' has more elements than sparkvit can hold in memory");
            }
        }
        return count;
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int read = channel.read(buffer, at);
            if (read < 0) {
                throw new IOException("unexpected end of file at byte " + at);
            }
            at += read;
        }
    }

    /** SHA-256 of the data section {@link #write} produces for these tensors (their F32 little-endian bytes). */
    private static String dataSha256(java.util.Collection<NamedTensor> tensors) {
        MessageDigest digest = sha256();
        for (NamedTensor tensor : tensors) {
            ByteBuffer data = ByteBuffer.allocate(4 * tensor.values().length).order(ByteOrder.LITTLE_ENDIAN);
            data.asFloatBuffer().put(tensor.values());
            digest.update(data.array());
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }

    /** A value from the file as shown in a message: printable ASCII, at most 80 characters. */
    private static String shown(String value) {
        String printable = value.replaceAll("[^\\x20-\\x7e]", "?");
        return "'" + (printable.length() <= 80 ? printable : printable.substring(0, 80) + "...") + "'";
    }

    private static InvalidFileException invalid(Path file, String why) {
        // one line whatever the file holds: its names and values may carry line breaks or control characters
        return new InvalidFileException(file + " is not a valid safetensors file: "
                + why.replaceAll("\\p{Cntrl}", "?"));
    }
}
