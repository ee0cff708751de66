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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
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
        ImageDecoder turbo = new ImageDecoder(1, 100_000_000L, new Decoders(true));
        for (byte[] file : jpegs()) {
            BufferedImage expected = ImageIO.read(new ByteArrayInputStream(file));
            try (TurboJpeg.Session session = TurboJpeg.open()) {
                TurboJpeg.Header header = session.header(file);
                assertEquals(expected.getWidth(), header.width());
                assertEquals(expected.getHeight(), header.height());
                assertTrue(header.convertible());
                RgbImage decoded = session.decode(file, header.width(), header.height());
                assertNotNull(decoded, "libjpeg-turbo takes a valid " + header);
                assertArrayEquals(ImageDecoder.viaColorModel(expected).pixels(), decoded.pixels(), header.toString());
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
                new ImageDecoder(1, 100_000_000L, new Decoders(true)).decode(file).image().pixels());
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
        DecodeResult result = new ImageDecoder(1, 100_000_000L, new Decoders(true)).decode(cut);
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
        ImageDecoder decoder = new ImageDecoder(8, 2048L * 2048, new Decoders(true));
        ImageDecoder imageIo = new ImageDecoder(8, 2048L * 2048, Decoders.imageIo());
        List<byte[]> bases = jpegs().subList(3, 12);
        Random random = new Random(20261204L);
        Map<String, int[]> tally = new java.util.TreeMap<>();
        for (int i = 0; i < 600; i++) {
            byte[] base = bases.get(random.nextInt(bases.size()));
            byte[] mutant = mutate(base, random);
            DecodeResult expected = imageIo.decode(mutant);
            DecodeResult actual = decoder.decode(mutant);
            String verdict = expected.accepted() ? "accepted" : expected.reason().label();
            tally.computeIfAbsent(verdict, k -> new int[1])[0]++;
            assertEquals(expected.reason(), actual.reason(), "mutant " + i + ": " + actual.detail());
            assertEquals(expected.detail(), actual.detail(), "mutant " + i);
            if (expected.accepted()) {
                assertArrayEquals(expected.image().pixels(), actual.image().pixels(), "mutant " + i);
            }
        }
        System.out.println("JPEG mutants by ImageIO's verdict: "
                + tally.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()[0]).toList());
        assertTrue(tally.size() >= 3, "the mutants reach several verdicts: " + tally.keySet());
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
                setFrameSize(bytes, size[0], size[1]);
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
