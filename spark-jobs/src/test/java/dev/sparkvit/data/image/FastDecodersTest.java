package dev.sparkvit.data.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.Inflater;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import org.junit.jupiter.api.Test;

/**
 * The decoders that take files before ImageIO ({@link Decoders}) against ImageIO alone: the same pixels for every
 * file they accept, and, on hundreds of malformed files, the same verdict, reason and detail for every file. Tests of
 * a native library are skipped when it does not load here (submit/codecs.sh installs it; `make test` runs that).
 * The Java PNG reader is tested with java.util.zip always, and with libdeflate where it loads.
 */
class FastDecodersTest {
    private static final ImageDecoder IMAGEIO = new ImageDecoder(1, 100_000_000L, Decoders.imageIo());

    private static void assumeTurboJpeg() {
        assumeTrue(TurboJpeg.available(), "libturbojpeg does not load here: " + TurboJpeg.loadError());
    }

    /** Photo-like content: smooth shading, edges and noise, so every DCT frequency and filter type occurs. */
    static BufferedImage photo(int type, int width, int height, long seed) {
        BufferedImage image = new BufferedImage(width, height, type);
        Random random = new Random(seed);
        int tint = random.nextInt(1 << 24);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int r = (x * 255 / width + random.nextInt(24)) & 0xff;
                int g = ((y * 255 / height) ^ (x / 7 % 2 == 0 ? 0 : 90)) & 0xff;
                int b = (128 + (int) (100 * Math.sin((x + y) / 9.0)) + random.nextInt(16)) & 0xff;
                image.setRGB(x, y, (0x7f << 24 | r << 16 | g << 8 | b) ^ tint & 0xffffff);
            }
        }
        return image;
    }

    static byte[] jpeg(BufferedImage image, float quality, boolean progressive) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(quality);
            if (progressive) {
                param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
            }
            writer.setOutput(out);
            writer.write(null, new IIOImage(image, null, null), param);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }

    /** Valid JPEGs of the kinds the benchmark and photos have, at sizes that are and are not multiples of 16. */
    static List<byte[]> jpegs() throws IOException {
        List<byte[]> files = new ArrayList<>();
        long seed = 1;
        for (int[] size : new int[][] {{8, 8}, {37, 23}, {64, 48}, {321, 239}, {400, 300}}) {
            files.add(jpeg(photo(BufferedImage.TYPE_3BYTE_BGR, size[0], size[1], seed++), 0.9f, false));
            files.add(jpeg(photo(BufferedImage.TYPE_INT_RGB, size[0], size[1], seed++), 0.5f, true));
            files.add(jpeg(photo(BufferedImage.TYPE_3BYTE_BGR, size[0], size[1], seed++), 1.0f, false));
        }
        return files;
    }

    @Test
    void libjpegTurboDecodesJpegsToImageIosPixels() throws IOException {
        assumeTurboJpeg();
        ImageDecoder turbo = new ImageDecoder(1, 100_000_000L, new Decoders(true, false, false));
        for (byte[] file : jpegs()) {
            BufferedImage expected = ImageIO.read(new ByteArrayInputStream(file));
            try (TurboJpeg.Session session = TurboJpeg.open()) {
                TurboJpeg.Header header = session.header(file);
                assertEquals(expected.getWidth(), header.width());
                assertEquals(expected.getHeight(), header.height());
                assertTrue(header.convertible());
                RgbImage decoded = session.decode(file, header.width(), header.height());
                assertNotNull(decoded, "libjpeg-turbo takes a valid " + header);
                assertArrayEquals(RgbConversion.viaColorModel(expected).pixels(), decoded.pixels(), header.toString());
            }
            assertArrayEquals(IMAGEIO.decode(file).image().pixels(), turbo.decode(file).image().pixels());
        }
    }

    /** Gray JPEGs: ImageIO's colour model treats gray as linear and brightens it, so they stay with ImageIO. */
    @Test
    void grayJpegsAreLeftToImageIo() throws IOException {
        assumeTurboJpeg();
        BufferedImage gray = photo(BufferedImage.TYPE_BYTE_GRAY, 40, 30, 3);
        byte[] file = jpeg(gray, 0.9f, false);
        try (TurboJpeg.Session session = TurboJpeg.open()) {
            assertTrue(!session.header(file).convertible());
        }
        assertArrayEquals(IMAGEIO.decode(file).image().pixels(),
                new ImageDecoder(1, 100_000_000L, new Decoders(true, false, false)).decode(file).image().pixels());
    }

    @Test
    void aTruncatedJpegIsNotDecodedCleanlyAndImageIoCallsItTruncated() throws IOException {
        assumeTurboJpeg();
        byte[] file = jpeg(photo(BufferedImage.TYPE_3BYTE_BGR, 200, 150, 4), 0.9f, false);
        byte[] cut = Arrays.copyOf(file, file.length * 2 / 3);
        try (TurboJpeg.Session session = TurboJpeg.open()) {
            TurboJpeg.Header header = session.header(cut);
            assertNotNull(header, "the header is intact");
            assertNull(session.decode(cut, header.width(), header.height()), "libjpeg warns of the early end");
        }
        DecodeResult result = new ImageDecoder(1, 100_000_000L, new Decoders(true, false, false)).decode(cut);
        assertEquals(RejectReason.TRUNCATED, result.reason(), result.detail());
        assertEquals(IMAGEIO.decode(cut), result);
    }

    /**
     * Seeded mutants of valid JPEGs (bit flips, cuts, spliced ranges, garbage after the header, lying sizes in the
     * frame header): with libjpeg-turbo in front, every file gets ImageIO's verdict, reason, detail and pixels.
     */
    @Test
    void onMalformedJpegsEveryVerdictAndPixelIsImageIos() throws IOException {
        assumeTurboJpeg();
        Map<String, Integer> tally = sameVerdictsAsImageIo(new Decoders(true, false, false), jpegs().subList(3, 12),
                600, 20261204L);
        System.out.println("JPEG mutants by ImageIO's verdict: " + tally);
        assertTrue(tally.size() >= 4, "the mutants reach several verdicts: " + tally);
    }

    /**
     * The same for PNGs through the Java reader, inflating with libdeflate and with java.util.zip (lying sizes are
     * written into IHDR with its CRC recomputed, so they reach the size checks).
     */
    @Test
    void onMalformedPngsEveryVerdictAndPixelIsImageIos() throws IOException {
        List<byte[]> bases = new ArrayList<>();
        for (byte[] png : pngs()) {
            if (png.length < 200_000) {
                bases.add(png);
            }
        }
        Map<String, Integer> tally = sameVerdictsAsImageIo(new Decoders(false, true, false), bases, 400, 20261205L);
        System.out.println("PNG mutants by ImageIO's verdict (java.util.zip): " + tally);
        assertTrue(tally.size() >= 4, "the mutants reach several verdicts: " + tally);
        if (LibDeflate.available()) {
            System.out.println("PNG mutants by ImageIO's verdict (libdeflate): " + sameVerdictsAsImageIo(
                    new Decoders(false, true, true), bases, 400, 20261206L));
        }
    }

    /** Decodes {@code count} mutants of {@code bases} both ways, asserting equal results; ImageIO's verdicts. */
    private static Map<String, Integer> sameVerdictsAsImageIo(Decoders decoders, List<byte[]> bases, int count,
            long seed) {
        ImageDecoder decoder = new ImageDecoder(8, 2048L * 2048, decoders);
        ImageDecoder imageIo = new ImageDecoder(8, 2048L * 2048, Decoders.imageIo());
        Random random = new Random(seed);
        Map<String, Integer> tally = new java.util.TreeMap<>();
        for (int i = 0; i < count; i++) {
            byte[] mutant = mutate(bases.get(random.nextInt(bases.size())), random);
            decodeDirectly(decoders, mutant); // ImageDecoder would hide an exception by asking ImageIO
            DecodeResult expected = imageIo.decode(mutant);
            DecodeResult actual = decoder.decode(mutant);
            tally.merge(expected.accepted() ? "accepted" : expected.reason().label(), 1, Integer::sum);
            assertEquals(expected.reason(), actual.reason(), "mutant " + i + ": " + actual.detail());
            assertEquals(expected.detail(), actual.detail(), "mutant " + i);
            if (expected.accepted()) {
                assertArrayEquals(expected.image().pixels(), actual.image().pixels(), "mutant " + i);
            }
        }
        return tally;
    }

    /** The fast decoders on a file within the test's limits, outside ImageDecoder: they must not throw. */
    private static void decodeDirectly(Decoders decoders, byte[] file) {
        if (decoders.javaPng() && PngReader.isPng(file)) {
            PngReader.Header header = PngReader.header(file);
            if (header != null && header.supported() && (long) header.width() * header.height() <= 2048L * 2048) {
                PngReader.decode(file, header, decoders.libDeflate());
            }
        }
        if (decoders.turboJpeg() && ImageDecoder.isJpeg(file)) {
            try (TurboJpeg.Session session = TurboJpeg.open()) {
                TurboJpeg.Header header = session.header(file);
                if (header != null && header.convertible() && header.width() > 0 && header.height() > 0
                        && (long) header.width() * header.height() <= 2048L * 2048) {
                    session.decode(file, header.width(), header.height());
                }
            }
        }
    }

    static byte[] mutate(byte[] base, Random random) {
        byte[] bytes = base.clone();
        switch (random.nextInt(5)) {
            case 0 -> {
                for (int k = 1 + random.nextInt(8); k > 0; k--) {
                    int at = random.nextInt(bytes.length);
                    bytes[at] ^= (byte) (1 << random.nextInt(8));
                }
            }
            case 1 -> bytes = Arrays.copyOf(bytes, 1 + random.nextInt(bytes.length - 1));
            case 2 -> {
                int from = random.nextInt(bytes.length);
                int length = 1 + random.nextInt(Math.min(256, bytes.length - from));
                byte[] rest = Arrays.copyOfRange(bytes, Math.min(bytes.length, from + length), bytes.length);
                bytes = Arrays.copyOf(Arrays.copyOf(bytes, from), from + rest.length);
                System.arraycopy(rest, 0, bytes, from, rest.length);
            }
            case 3 -> {
                int keep = Math.min(bytes.length, 8 + random.nextInt(600));
                for (int at = keep; at < bytes.length; at++) {
                    bytes[at] = (byte) random.nextInt(256);
                }
            }
            default -> {
                int[][] sizes = {{2048, 2048}, {4096, 1024}, {1000, 1000}, {0, 0}, {65_535, 65_535}, {9, 7}};
                int[] size = sizes[random.nextInt(sizes.length)];
                if (PngReader.isPng(bytes)) {
                    setIhdrSize(bytes, size[0], size[1]);
                } else {
                    setFrameSize(bytes, size[0], size[1]);
                }
            }
        }
        return bytes;
    }

    /** Writes width and height into the first start-of-frame segment (baseline or progressive). */
    static void setFrameSize(byte[] jpeg, int width, int height) {
        for (int i = 2; i + 9 < jpeg.length; ) {
            int marker = jpeg[i + 1] & 0xff;
            if (marker == 0xc0 || marker == 0xc2) {
                jpeg[i + 5] = (byte) (height >> 8);
                jpeg[i + 6] = (byte) height;
                jpeg[i + 7] = (byte) (width >> 8);
                jpeg[i + 8] = (byte) width;
                return;
            }
            i += 2 + (((jpeg[i + 2] & 0xff) << 8) | (jpeg[i + 3] & 0xff));
        }
    }

    /** Writes width and height into IHDR and recomputes its CRC. */
    static void setIhdrSize(byte[] png, int width, int height) {
        java.nio.ByteBuffer.wrap(png).putInt(16, width).putInt(20, height);
        CRC32 crc = new CRC32();
        crc.update(png, 12, 17);
        java.nio.ByteBuffer.wrap(png).putInt(29, (int) crc.getValue());
    }

    static byte[] png(BufferedImage image) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(image, "png", out));
        return out.toByteArray();
    }

    /**
     * Valid 8-bit RGB (from INT_RGB and 3BYTE_BGR) and RGBA (INT_ARGB) PNGs of photo-like content, written by
     * ImageIO (which uses only filter 0 on these) and by {@link #filteredPng} (every filter type, several chunks).
     */
    static List<byte[]> pngs() throws IOException {
        List<byte[]> files = new ArrayList<>();
        long seed = 100;
        for (int[] size : new int[][] {{8, 8}, {37, 23}, {64, 48}, {321, 239}, {400, 300}}) {
            for (int type : new int[] {BufferedImage.TYPE_INT_RGB, BufferedImage.TYPE_3BYTE_BGR,
                BufferedImage.TYPE_INT_ARGB}) {
                files.add(png(photo(type, size[0], size[1], seed++)));
            }
            files.add(filteredPng(photo(BufferedImage.TYPE_INT_RGB, size[0], size[1], seed++), false));
            files.add(filteredPng(photo(BufferedImage.TYPE_INT_ARGB, size[0], size[1], seed++), true));
        }
        return files;
    }

    /** A PNG whose rows cycle through filters 0-4 (None, Sub, Up, Average, Paeth), IDAT split into 1000-byte chunks. */
    static byte[] filteredPng(BufferedImage image, boolean alpha) throws IOException {
        int width = image.getWidth();
        int height = image.getHeight();
        int bpp = alpha ? 4 : 3;
        int rowBytes = width * bpp;
        ByteArrayOutputStream filtered = new ByteArrayOutputStream();
        byte[] prior = new byte[rowBytes];
        for (int y = 0; y < height; y++) {
            byte[] row = new byte[rowBytes];
            for (int x = 0; x < width; x++) {
                int argb = image.getRGB(x, y);
                int[] samples = {argb >> 16, argb >> 8, argb, argb >>> 24};
                for (int c = 0; c < bpp; c++) {
                    row[x * bpp + c] = (byte) samples[c];
                }
            }
            int filter = y % 5;
            filtered.write(filter);
            for (int i = 0; i < rowBytes; i++) {
                int a = i >= bpp ? row[i - bpp] & 0xff : 0;
                int b = prior[i] & 0xff;
                int c = i >= bpp ? prior[i - bpp] & 0xff : 0;
                int p = a + b - c;
                int paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a
                        : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
                int predicted = switch (filter) {
                    case 0 -> 0;
                    case 1 -> a;
                    case 2 -> b;
                    case 3 -> (a + b) >> 1;
                    default -> paeth;
                };
                filtered.write((row[i] & 0xff) - predicted);
            }
            prior = row;
        }
        java.util.zip.Deflater deflater = new java.util.zip.Deflater();
        deflater.setInput(filtered.toByteArray());
        deflater.finish();
        ByteArrayOutputStream zlib = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        while (!deflater.finished()) {
            zlib.write(buffer, 0, deflater.deflate(buffer));
        }
        deflater.end();
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        png.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        writeChunk(png, "IHDR", java.nio.ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8)
                .put((byte) (alpha ? 6 : 2)).put((byte) 0).put((byte) 0).put((byte) 0).array());
        byte[] data = zlib.toByteArray();
        for (int at = 0; at < data.length; at += 1000) {
            writeChunk(png, "IDAT", Arrays.copyOfRange(data, at, Math.min(data.length, at + 1000)));
        }
        writeChunk(png, "IEND", new byte[0]);
        return png.toByteArray();
    }

    private static void writeChunk(ByteArrayOutputStream png, String type, byte[] data) throws IOException {
        byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
        png.write(java.nio.ByteBuffer.allocate(4).putInt(data.length).array());
        png.write(typeBytes);
        png.write(data);
        CRC32 crc = new CRC32();
        crc.update(typeBytes);
        crc.update(data);
        png.write(java.nio.ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    /** The row filter types used by a PNG (inflating its IDAT chunks), and how many IDAT chunks it has. */
    private static int[] filtersAndChunks(byte[] png, PngReader.Header header) throws Exception {
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        int chunks = 0;
        for (int at = 8; at + 12 <= png.length; ) {
            int length = java.nio.ByteBuffer.wrap(png).getInt(at);
            if (new String(png, at + 4, 4, java.nio.charset.StandardCharsets.US_ASCII).equals("IDAT")) {
                idat.write(png, at + 8, length);
                chunks++;
            }
            at += 12 + length;
        }
        int channels = header.colorType() == 6 ? 4 : 3;
        byte[] raw = new byte[header.height() * (header.width() * channels + 1)];
        Inflater inflater = new Inflater();
        inflater.setInput(idat.toByteArray());
        assertEquals(raw.length, inflater.inflate(raw));
        inflater.end();
        int used = 0;
        for (int y = 0; y < header.height(); y++) {
            used |= 1 << raw[y * (header.width() * channels + 1)];
        }
        return new int[] {used, chunks};
    }

    @Test
    void thePngReaderDecodesRgbAndRgbaPngsToImageIosPixels() throws Exception {
        int filters = 0;
        int maxChunks = 0;
        for (byte[] file : pngs()) {
            BufferedImage expected = ImageIO.read(new ByteArrayInputStream(file));
            PngReader.Header header = PngReader.header(file);
            assertTrue(header.supported(), header.toString());
            int[] used = filtersAndChunks(file, header);
            filters |= used[0];
            maxChunks = Math.max(maxChunks, used[1]);
            byte[] pixels = RgbConversion.viaColorModel(expected).pixels();
            RgbImage inflater = PngReader.decode(file, header, false);
            assertNotNull(inflater, header.toString());
            assertArrayEquals(pixels, inflater.pixels(), header + " with java.util.zip");
            if (LibDeflate.available()) {
                assertArrayEquals(pixels, PngReader.decode(file, header, true).pixels(), header + " with libdeflate");
            }
            assertArrayEquals(IMAGEIO.decode(file).image().pixels(), new ImageDecoder(1, 100_000_000L,
                    Decoders.fastest()).decode(file).image().pixels());
        }
        assertEquals(0b11111, filters, "the files use all five row filters");
        assertTrue(maxChunks > 1, "some file has its data in several IDAT chunks");
    }

    /** So that the tests above are not skipped unnoticed where the libraries are installed (Debian's paths). */
    @Test
    void theNativeLibrariesLoadWhereTheyAreInstalled() {
        String lib = "/usr/lib/x86_64-linux-gnu/";
        assumeTrue(new java.io.File(lib + "libturbojpeg.so.0").exists()
                || new java.io.File(lib + "libdeflate.so.0").exists(), "neither library is installed here");
        if (new java.io.File(lib + "libturbojpeg.so.0").exists()) {
            assertTrue(TurboJpeg.available(), TurboJpeg.loadError());
            assertTrue(Decoders.fastest().turboJpeg());
        }
        if (new java.io.File(lib + "libdeflate.so.0").exists()) {
            assertTrue(LibDeflate.available(), LibDeflate.loadError());
            assertTrue(Decoders.fastest().libDeflate());
        }
    }

    @Test
    void otherPngKindsAndPngsWithAnIccProfileAreLeftToImageIo() throws IOException {
        for (int type : new int[] {BufferedImage.TYPE_BYTE_GRAY, BufferedImage.TYPE_USHORT_GRAY,
            BufferedImage.TYPE_BYTE_INDEXED, BufferedImage.TYPE_BYTE_BINARY}) {
            byte[] file = png(photo(type, 30, 20, type));
            assertTrue(!PngReader.header(file).supported(), "type " + type);
        }
        byte[] rgb = png(photo(BufferedImage.TYPE_INT_RGB, 30, 20, 9));
        PngReader.Header header = PngReader.header(rgb);
        assertNotNull(PngReader.decode(rgb, header, false));
        byte[] withProfile = insertChunkAfterIhdr(rgb, "iCCP", "sRGB\0\0".getBytes(StandardCharsets.US_ASCII));
        assertNull(PngReader.decode(withProfile, header, false), "an iCCP chunk is ImageIO's business");
        byte[] otherChunk = insertChunkAfterIhdr(rgb, "tEXt", "Comment\0hello".getBytes(StandardCharsets.US_ASCII));
        assertArrayEquals(PngReader.decode(rgb, header, false).pixels(),
                PngReader.decode(otherChunk, header, false).pixels(), "other ancillary chunks are skipped");
        byte[] badCrc = rgb.clone();
        badCrc[badCrc.length - 13] ^= 1; // the last IDAT chunk's CRC
        assertNull(PngReader.decode(badCrc, header, false), "a CRC mismatch is not decoded");
    }

    private static byte[] insertChunkAfterIhdr(byte[] png, String type, byte[] data) {
        java.nio.ByteBuffer chunk = java.nio.ByteBuffer.allocate(12 + data.length);
        chunk.putInt(data.length).put(type.getBytes(StandardCharsets.US_ASCII)).put(data);
        CRC32 crc = new CRC32();
        crc.update(chunk.array(), 4, 4 + data.length);
        chunk.putInt((int) crc.getValue());
        byte[] out = new byte[png.length + chunk.capacity()];
        System.arraycopy(png, 0, out, 0, 33);
        System.arraycopy(chunk.array(), 0, out, 33, chunk.capacity());
        System.arraycopy(png, 33, out, 33 + chunk.capacity(), png.length - 33);
        return out;
    }

    @Test
    void theSettingChoosesTheDecodersAndNamesABadValue() {
        Map<String, String> none = Map.of();
        assertEquals(Decoders.fastest(), Decoders.fromSetting(none::get, none::get));
        assertEquals(Decoders.imageIo(), Decoders.fromSetting(Map.of(Decoders.PROPERTY, "ImageIO")::get, none::get));
        assertEquals(Decoders.imageIo(), Decoders.fromSetting(none::get, Map.of(Decoders.ENV, "imageio")::get));
        assertEquals(Decoders.fastest(), Decoders.fromSetting(Map.of(Decoders.PROPERTY, "auto")::get,
                Map.of(Decoders.ENV, "imageio")::get), "the property wins over the environment");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Decoders.fromSetting(none::get, Map.of(Decoders.ENV, "turbo")::get));
        assertEquals("SPARKVIT_DECODERS=turbo: expected auto or imageio", e.getMessage());
    }
}
