package dev.sparkvit.data.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ImageDecoderTest {
    private static final ImageDecoder DECODER = new ImageDecoder(8, 100_000_000L);

    private static byte[] gif(int width, int height, long seed, boolean noise) throws IOException {
        Random random = new Random(seed);
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, noise ? random.nextInt(1 << 24) : (x * 255 / width) << 16 | (y / 4 % 2) * 255);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(image, "gif", out));
        return out.toByteArray();
    }

    /** The first image descriptor's offset: past the header, logical screen and global colour table. */
    private static int descriptor(byte[] gif) {
        int packed = gif[10] & 0xff;
        int at = 13 + ((packed & 0x80) != 0 ? 3 * (1 << ((packed & 7) + 1)) : 0);
        while ((gif[at] & 0xff) == 0x21) {
            at += 2;
            while (gif[at] != 0) {
                at += (gif[at] & 0xff) + 1;
            }
            at++;
        }
        assertEquals(0x2c, gif[at] & 0xff);
        return at;
    }

    /** Exact for frames whose code table never fills; larger ones may count in full or be undecided (-1). */
    @Test
    void theLzwCountOfValidGifsIsEveryPixelAndNoneIsRejected() throws IOException {
        for (int[] size : new int[][] {{8, 8}, {37, 23}, {64, 48}, {300, 200}, {513, 77}, {1000, 700}}) {
            for (boolean noise : new boolean[] {true, false}) {
                byte[] gif = gif(size[0], size[1], size[0] * 31L + size[1], noise);
                long pixels = (long) size[0] * size[1];
                long counted = GifReader.firstFramePixels(gif, Long.MAX_VALUE);
                if (pixels <= 64 * 48) {
                    assertEquals(pixels, counted, size[0] + "x" + size[1]);
                } else {
                    assertTrue(counted == pixels || counted == -1, size[0] + "x" + size[1] + ": " + counted);
                }
                assertTrue(DECODER.decode(gif).accepted(), size[0] + "x" + size[1]);
            }
        }
    }

    @Test
    void aGifFrameDeclaringMorePixelsThanItsDataHoldsIsTruncated() throws IOException {
        byte[] gif = gif(64, 48, 7, true);
        int at = descriptor(gif);
        gif[at + 5] = (byte) 1000;
        gif[at + 6] = (byte) (1000 >> 8);
        gif[at + 7] = (byte) 1000;
        gif[at + 8] = (byte) (1000 >> 8);
        DecodeResult result = DECODER.decode(gif);
        assertEquals(RejectReason.TRUNCATED, result.reason(), String.valueOf(result.detail()));
        assertTrue(result.detail().contains("1000x1000") && result.detail().contains("only 3072"), result.detail());
    }

    @Test
    void aGifCutInsideItsFrameDataIsTruncated() throws IOException {
        byte[] gif = gif(64, 48, 8, true);
        DecodeResult result = DECODER.decode(Arrays.copyOf(gif, gif.length * 2 / 3));
        assertEquals(RejectReason.TRUNCATED, result.reason(), String.valueOf(result.detail()));
    }

    private static BufferedImage solid(int width, int height) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = image.createGraphics();
        g.setColor(new java.awt.Color(90, 120, 200));
        g.fillRect(0, 0, width, height);
        g.dispose();
        return image;
    }

    @Test
    void aSmallFileWhoseHeaderDeclaresAHugeImageIsTruncatedBeforeDecoding() throws IOException {
        byte[] jpeg = encode(solid(64, 64), "jpg");
        for (int i = 2; i + 9 < jpeg.length; ) { // the start-of-frame segment: height, then width
            int marker = jpeg[i + 1] & 0xff;
            if (marker == 0xc0) {
                jpeg[i + 5] = (byte) (10000 >> 8);
                jpeg[i + 6] = (byte) 10000;
                jpeg[i + 7] = (byte) (10000 >> 8);
                jpeg[i + 8] = (byte) 10000;
                break;
            }
            i += 2 + (((jpeg[i + 2] & 0xff) << 8) | (jpeg[i + 3] & 0xff));
        }
        DecodeResult result = DECODER.decode(jpeg);
        assertEquals(RejectReason.TRUNCATED, result.reason(), String.valueOf(result.detail()));
        assertTrue(result.detail().contains("10000x10000, which takes at least 48828 bytes"), result.detail());

        byte[] png = encode(solid(64, 64), "png");
        java.nio.ByteBuffer.wrap(png).putInt(16, 10000).putInt(20, 10000);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(png, 12, 17);
        java.nio.ByteBuffer.wrap(png).putInt(29, (int) crc.getValue());
        DecodeResult pngResult = DECODER.decode(png);
        assertEquals(RejectReason.TRUNCATED, pngResult.reason(), String.valueOf(pngResult.detail()));
        assertTrue(pngResult.detail().contains("checked before decoding"), pngResult.detail());
    }

    /** The bound is far below what real encoders produce, even for images that compress best (one colour). */
    @Test
    void solidColourImagesStillDecode() throws IOException {
        for (String format : new String[] {"jpg", "png"}) {
            byte[] bytes = encode(solid(2000, 1500), format);
            assertTrue(bytes.length > 4 * ImageDecoder.minimumEncodedBytes(format.equals("jpg") ? "jpeg" : format,
                    2000, 1500), format + ": " + bytes.length);
            assertTrue(DECODER.decode(bytes).accepted(), format);
        }
    }

    private static BufferedImage noise(int type, int width, int height, long seed) {
        BufferedImage image = new BufferedImage(width, height, type);
        Random random = new Random(seed);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, random.nextInt());
            }
        }
        return image;
    }

    private static byte[] encode(BufferedImage image, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(image, format, out), "no " + format + " writer for type " + image.getType());
        return out.toByteArray();
    }

    /** A gray image's samples scaled to 8 bits, as RGB: what a gray file holds (see grayImagesKeepTheirSampleValues). */
    private static byte[] graySamples(BufferedImage image) {
        int max = (1 << image.getColorModel().getComponentSize(0)) - 1;
        byte[] pixels = new byte[image.getWidth() * image.getHeight() * 3];
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                long v = Math.round(image.getRaster().getSample(x, y, 0) * 255.0 / max);
                Arrays.fill(pixels, (y * image.getWidth() + x) * 3, (y * image.getWidth() + x) * 3 + 3, (byte) v);
            }
        }
        return pixels;
    }

    private static boolean isGray(BufferedImage image) {
        return image.getColorModel().getColorSpace().getType() == java.awt.color.ColorSpace.TYPE_GRAY;
    }

    /** Colour images convert as their colour model reports them; gray ones keep their samples. */
    @Test
    void everyImageTypeConvertsAsItsColourModelReportsIt() {
        int[] types = {BufferedImage.TYPE_3BYTE_BGR, BufferedImage.TYPE_4BYTE_ABGR, BufferedImage.TYPE_4BYTE_ABGR_PRE,
            BufferedImage.TYPE_INT_RGB, BufferedImage.TYPE_INT_ARGB, BufferedImage.TYPE_INT_BGR,
            BufferedImage.TYPE_BYTE_GRAY, BufferedImage.TYPE_USHORT_GRAY, BufferedImage.TYPE_BYTE_INDEXED,
            BufferedImage.TYPE_USHORT_565_RGB};
        for (int type : types) {
            BufferedImage image = noise(type, 13, 7, type);
            byte[] expected = isGray(image) ? graySamples(image) : RgbConversion.viaColorModel(image).pixels();
            assertArrayEquals(expected, RgbConversion.toRgb(image).pixels(), "type " + type);
        }
    }

    @Test
    void decodedPngAndJpegBytesConvertAsTheirColourModelReportsThem() throws IOException {
        ImageDecoder decoder = new ImageDecoder(1, 1_000_000);
        byte[][] files = {encode(noise(BufferedImage.TYPE_INT_RGB, 31, 17, 1), "png"),
            encode(noise(BufferedImage.TYPE_INT_ARGB, 31, 17, 2), "png"),
            encode(noise(BufferedImage.TYPE_3BYTE_BGR, 31, 17, 3), "jpeg"),
            encode(noise(BufferedImage.TYPE_BYTE_GRAY, 31, 17, 4), "png")};
        for (byte[] file : files) {
            BufferedImage read = ImageIO.read(new java.io.ByteArrayInputStream(file));
            DecodeResult decoded = decoder.decode(file);
            assertTrue(decoded.accepted(), decoded.detail());
            assertArrayEquals(isGray(read) ? graySamples(read) : RgbConversion.viaColorModel(read).pixels(),
                    decoded.image().pixels());
        }
    }

    @Test
    void packedRgbLayoutsAreTakenOverAndOthersCopied() {
        BufferedImage rgb = new BufferedImage(new java.awt.image.ComponentColorModel(
                java.awt.color.ColorSpace.getInstance(java.awt.color.ColorSpace.CS_sRGB), false, false,
                java.awt.Transparency.OPAQUE, java.awt.image.DataBuffer.TYPE_BYTE),
                java.awt.image.Raster.createInterleavedRaster(java.awt.image.DataBuffer.TYPE_BYTE, 5, 4, 15, 3,
                        new int[] {0, 1, 2}, null), false, null);
        byte[] data = ((java.awt.image.DataBufferByte) rgb.getRaster().getDataBuffer()).getData();
        new Random(6).nextBytes(data);
        byte[] expected = RgbConversion.viaColorModel(rgb).pixels();
        assertArrayEquals(expected, RgbConversion.toRgb(rgb).pixels());
        assertTrue(RgbConversion.toRgb(rgb).pixels() == data, "PNG's RGB layout is used as it is");
    }

    @Test
    void aSubimageIsReadFromItsOwnCorner() {
        BufferedImage image = noise(BufferedImage.TYPE_3BYTE_BGR, 20, 12, 5).getSubimage(3, 2, 9, 6);
        byte[] expected = RgbConversion.viaColorModel(image).pixels();
        assertArrayEquals(expected, RgbConversion.toRgb(image).pixels());
    }

    /**
     * Gray files keep their values, as PIL's convert("RGB") and every viewer show them. ImageIO decodes them into a
     * linear gray colour space, and going through its colour model brightened them (43 became 114).
     */
    @Test
    void grayImagesKeepTheirSampleValues() throws IOException {
        int[] levels = {0, 1, 43, 99, 128, 200, 254, 255};
        BufferedImage gray8 = new BufferedImage(levels.length, 8, BufferedImage.TYPE_BYTE_GRAY);
        BufferedImage gray16 = new BufferedImage(levels.length, 8, BufferedImage.TYPE_USHORT_GRAY);
        for (int x = 0; x < levels.length; x++) {
            for (int y = 0; y < 8; y++) {
                gray8.getRaster().setSample(x, y, 0, levels[x]);
                gray16.getRaster().setSample(x, y, 0, levels[x] * 257);
            }
        }
        java.util.Map<String, byte[]> files = new java.util.LinkedHashMap<>();
        files.put("8-bit gray PNG", encode(gray8, "png"));
        files.put("16-bit gray PNG", encode(gray16, "png"));
        files.put("gray BMP", encode(gray8, "bmp"));
        for (java.util.Map.Entry<String, byte[]> file : files.entrySet()) {
            DecodeResult result = DECODER.decode(file.getValue());
            assertTrue(result.accepted(), file.getKey() + ": " + result.detail());
            for (int x = 0; x < levels.length; x++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(levels[x], result.image().get(x, 1, c), file.getKey() + " at x " + x);
                }
            }
        }
        // JPEG is lossy, but a flat gray block decodes to its value
        BufferedImage flat = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_GRAY);
        for (int x = 0; x < 16; x++) {
            for (int y = 0; y < 16; y++) {
                flat.getRaster().setSample(x, y, 0, 43);
            }
        }
        DecodeResult jpeg = DECODER.decode(encode(flat, "jpg"));
        assertTrue(jpeg.accepted(), jpeg.detail());
        assertEquals(43, jpeg.image().get(8, 8, 0), 1, "gray JPEG");
    }
}
