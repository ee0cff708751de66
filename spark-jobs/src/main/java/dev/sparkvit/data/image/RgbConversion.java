package dev.sparkvit.data.image;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;

/**
 * An image ImageIO decoded ({@link BufferedImage}, or a raw CMYK raster) to 8-bit {@link RgbImage}, as PIL's
 * {@code convert("RGB")}: 8-bit sRGB bytes copied directly, gray samples kept as they are, everything else
 * (palette, 16-bit, packed ints, premultiplied alpha) through its colour model; alpha is dropped.
 */
final class RgbConversion {
    private RgbConversion() {
    }

    /**
     * Any decoded image to 8-bit RGB: straight from the bytes when they are 8-bit sRGB, else via the colour model.
     * A packed RGB or BGR buffer becomes the result itself (BGR reordered in place), so the image must not be used
     * afterwards.
     */
    static RgbImage toRgb(BufferedImage image) {
        RgbImage direct = fromSrgbBytes(image);
        if (direct == null) {
            direct = fromGraySamples(image);
        }
        return direct != null ? direct : viaColorModel(image);
    }

    /**
     * Gray images (JPEG and PNG, 1 to 16 bits, with or without alpha) from their samples. ImageIO gives them a
     * linear gray colour space, so {@code getRGB} treats every value as linear light and re-encodes it for sRGB,
     * brightening the image (a sample of 43 came out as 114). A gray file's values are already what viewers show and
     * what PIL's {@code convert("RGB")} keeps: 8-bit samples are taken as they are, others scaled to 8 bits. Null for
     * anything else (palettes go through their colour model, whose entries are sRGB).
     */
    private static RgbImage fromGraySamples(BufferedImage image) {
        if (!(image.getColorModel() instanceof ComponentColorModel cm)
                || cm.getColorSpace().getType() != ColorSpace.TYPE_GRAY
                || cm.getNumColorComponents() != 1 || cm.isAlphaPremultiplied()) {
            return null;
        }
        int bits = cm.getComponentSize(0);
        if (bits < 1 || bits > 16) {
            return null;
        }
        Raster raster = image.getRaster();
        int width = image.getWidth();
        int height = image.getHeight();
        int max = (1 << bits) - 1;
        byte[] pixels = new byte[width * height * 3];
        int[] row = new int[width];
        for (int y = 0; y < height; y++) {
            raster.getSamples(raster.getMinX(), raster.getMinY() + y, width, 1, 0, row);
            int out = y * width * 3;
            for (int x = 0; x < width; x++, out += 3) {
                byte v = (byte) (bits == 8 ? row[x] : (row[x] * 255 + max / 2) / max);
                pixels[out] = v;
                pixels[out + 1] = v;
                pixels[out + 2] = v;
            }
        }
        return new RgbImage(width, height, pixels);
    }

    /**
     * Images whose samples are 8-bit sRGB components in one byte array (JPEG's and PNG's RGB and RGBA decodes,
     * 3BYTE_BGR, 4BYTE_ABGR), read directly: {@code getRGB} returns these bytes unchanged, at a per-pixel cost of
     * a colour-model call that took most of the ingest's Java time. Null for anything else (gray, palette,
     * 16-bit, premultiplied alpha, packed ints), which goes through the colour model.
     */
    private static RgbImage fromSrgbBytes(BufferedImage image) {
        if (!(image.getColorModel() instanceof ComponentColorModel cm) || !cm.getColorSpace().isCS_sRGB()
                || cm.isAlphaPremultiplied() || cm.getTransferType() != DataBuffer.TYPE_BYTE
                || cm.getNumColorComponents() != 3) {
            return null;
        }
        for (int bits : cm.getComponentSize()) {
            if (bits != 8) {
                return null;
            }
        }
        WritableRaster raster = image.getRaster();
        if (!(raster.getSampleModel() instanceof ComponentSampleModel sm)
                || !(raster.getDataBuffer() instanceof DataBufferByte buffer) || buffer.getNumBanks() != 1) {
            return null;
        }
        for (int bank : sm.getBankIndices()) {
            if (bank != 0) {
                return null;
            }
        }
        int width = image.getWidth();
        int height = image.getHeight();
        int[] bandOffsets = sm.getBandOffsets();
        int pixelStride = sm.getPixelStride();
        byte[] data = buffer.getData();
        boolean packed = pixelStride == 3 && sm.getScanlineStride() == 3 * width && buffer.getOffset() == 0
                && data.length == 3 * width * height && raster.getSampleModelTranslateX() == 0
                && raster.getSampleModelTranslateY() == 0;
        if (packed && bandOffsets[0] == 0 && bandOffsets[1] == 1 && bandOffsets[2] == 2) {
            return new RgbImage(width, height, data); // PNG's RGB decode: already the layout of RgbImage
        }
        if (packed && bandOffsets[0] == 2 && bandOffsets[1] == 1 && bandOffsets[2] == 0) {
            for (int i = 0; i < data.length; i += 3) { // JPEG's 3BYTE_BGR decode: swap blue and red in place
                byte blue = data[i];
                data[i] = data[i + 2];
                data[i + 2] = blue;
            }
            return new RgbImage(width, height, data);
        }
        int origin = buffer.getOffset()
                + (raster.getMinY() - raster.getSampleModelTranslateY()) * sm.getScanlineStride()
                + (raster.getMinX() - raster.getSampleModelTranslateX()) * pixelStride;
        byte[] pixels = new byte[width * height * 3];
        int r = bandOffsets[0];
        int g = bandOffsets[1];
        int b = bandOffsets[2];
        for (int y = 0; y < height; y++) {
            int at = origin + y * sm.getScanlineStride();
            int out = y * width * 3;
            for (int x = 0; x < width; x++, at += pixelStride, out += 3) {
                pixels[out] = data[at + r];
                pixels[out + 1] = data[at + g];
                pixels[out + 2] = data[at + b];
            }
        }
        return new RgbImage(width, height, pixels);
    }

    /** Any image to 8-bit RGB through its colour model (drops alpha, expands palettes and gray). */
    static RgbImage viaColorModel(BufferedImage image) {
        int width = image.getWidth();
        int height = image.getHeight();
        byte[] pixels = new byte[width * height * 3];
        int[] row = new int[width];
        for (int y = 0; y < height; y++) {
            image.getRGB(0, y, width, 1, row, 0, width);
            for (int x = 0; x < width; x++) {
                int i = (y * width + x) * 3;
                pixels[i] = (byte) (row[x] >> 16);
                pixels[i + 1] = (byte) (row[x] >> 8);
                pixels[i + 2] = (byte) row[x];
            }
        }
        return new RgbImage(width, height, pixels);
    }

    /** A raw 4-band JPEG raster (Adobe stores CMYK inverted) to RGB: R = 255 * (1 - C)(1 - K), likewise G, B. */
    static RgbImage cmykToRgb(Raster raster) {
        if (raster.getNumBands() != 4) {
            throw new IllegalArgumentException("expected a 4-band CMYK raster, got " + raster.getNumBands());
        }
        int width = raster.getWidth();
        int height = raster.getHeight();
        byte[] pixels = new byte[width * height * 3];
        int[] p = new int[4];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                raster.getPixel(x, y, p);
                // ImageIO returns Adobe's inverted values: p = 255 - ink
                double k = p[3] / 255.0;
                int i = (y * width + x) * 3;
                for (int c = 0; c < 3; c++) {
                    pixels[i + c] = (byte) Math.round(p[c] * k);
                }
            }
        }
        return new RgbImage(width, height, pixels);
    }
}
