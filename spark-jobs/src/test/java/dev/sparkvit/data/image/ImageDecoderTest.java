package dev.sparkvit.data.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ImageDecoderTest {

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

    @Test
    void everyImageTypeConvertsAsItsColourModelReportsIt() {
        int[] types = {BufferedImage.TYPE_3BYTE_BGR, BufferedImage.TYPE_4BYTE_ABGR, BufferedImage.TYPE_4BYTE_ABGR_PRE,
            BufferedImage.TYPE_INT_RGB, BufferedImage.TYPE_INT_ARGB, BufferedImage.TYPE_INT_BGR,
            BufferedImage.TYPE_BYTE_GRAY, BufferedImage.TYPE_USHORT_GRAY, BufferedImage.TYPE_BYTE_INDEXED,
            BufferedImage.TYPE_USHORT_565_RGB};
        for (int type : types) {
            BufferedImage image = noise(type, 13, 7, type);
            byte[] expected = ImageDecoder.viaColorModel(image).pixels();
            assertArrayEquals(expected, ImageDecoder.toRgb(image).pixels(), "type " + type);
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
            assertArrayEquals(ImageDecoder.viaColorModel(read).pixels(), decoded.image().pixels());
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
        byte[] expected = ImageDecoder.viaColorModel(rgb).pixels();
        assertArrayEquals(expected, ImageDecoder.toRgb(rgb).pixels());
        assertTrue(ImageDecoder.toRgb(rgb).pixels() == data, "PNG's RGB layout is used as it is");
    }

    @Test
    void aSubimageIsReadFromItsOwnCorner() {
        BufferedImage image = noise(BufferedImage.TYPE_3BYTE_BGR, 20, 12, 5).getSubimage(3, 2, 9, 6);
        byte[] expected = ImageDecoder.viaColorModel(image).pixels();
        assertArrayEquals(expected, ImageDecoder.toRgb(image).pixels());
    }
}
