package dev.sparkvit.data.image;

import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Decodes JPEG, PNG, BMP and GIF (first frame) bytes into 8-bit RGB, never throwing for bad input.
 * The dimensions are read from the header first, so an image declaring more than {@code maxPixels} pixels is
 * rejected before any pixel is decoded. Grayscale, 16-bit, palette and alpha images become 8-bit RGB (alpha is
 * dropped, as PIL's {@code convert("RGB")}); CMYK JPEGs, which ImageIO's colour conversion refuses, are converted
 * from their raw raster (Adobe inverted CMYK when the decoder reports it).
 *
 * <p>ImageIO decodes everything unless a faster decoder takes the file ({@link Decoders}): YCbCr and RGB JPEGs go to
 * libjpeg-turbo ({@link TurboJpeg}) and 8-bit RGB and RGBA PNGs to {@link PngReader} once their header passes the
 * checks above. These only ever accept a file, one they decode cleanly, with the same pixels ImageIO gives; every
 * other file (a header failing a check, truncated or corrupt data) goes to ImageIO, so every verdict, reason and
 * detail is ImageIO's as before.
 */
public final class ImageDecoder {
    static {
        ImageIO.setUseCache(false); // decode in memory; no temporary files on executors
    }

    private final int minSize;
    private final long maxPixels;
    private final Decoders decoders;

    /**
     * @param minSize smallest accepted shorter side, in pixels
     * @param maxPixels largest accepted width x height, checked from the header
     */
    public ImageDecoder(int minSize, long maxPixels) {
        this(minSize, maxPixels, Decoders.configured());
    }

    ImageDecoder(int minSize, long maxPixels, Decoders decoders) {
        if (minSize < 1 || maxPixels < 1) {
            throw new IllegalArgumentException("min size and max pixels must be positive, got " + minSize + ", "
                    + maxPixels);
        }
        this.minSize = minSize;
        this.maxPixels = maxPixels;
        this.decoders = decoders;
    }

    /**
     * The image, or why it is rejected. Running out of memory while decoding is {@link RejectReason#RETRY_LATER}
     * (with the memory the declared size needs), never a verdict on the file.
     */
    public DecodeResult decode(byte[] bytes) {
        try {
            return decodeOrRunOutOfMemory(bytes);
        } catch (OutOfMemoryError e) {
            return outOfMemory(bytes, e);
        }
    }

    /**
     * The verdict on a file whose decoding ran out of memory: how much the declared size needs (up to 4 bytes a pixel
     * for the decoded image and 3 for its RGB copy) against this JVM's heap.
     */
    static DecodeResult outOfMemory(byte[] bytes, OutOfMemoryError error) {
        long[] size = declaredSize(bytes);
        String declared = size == null ? "the image" : "decoding its " + size[0] + "x" + size[1] + " pixels";
        String needs = size == null ? "" : " needs about " + ((size[0] * size[1] * 7) >> 20) + " MiB (the decoded "
                + "image at up to 4 bytes a pixel and its 3-byte RGB copy)";
        return DecodeResult.reject(RejectReason.RETRY_LATER, declared + needs + ", but this JVM ran out of memory ("
                + message(error) + "; its heap is " + (Runtime.getRuntime().maxMemory() >> 20) + " MiB, shared by "
                + "the tasks running in it): not a fault of the file, which a later run tries again; give the "
                + "executors more memory (spark.executor.memory, or -Xmx for a local run) or fewer cores each, or "
                + "refuse such images with a lower --max-pixels");
    }

    /** Width and height from the header alone (no pixels decoded), or null when it cannot be read. */
    private static long[] declaredSize(byte[] bytes) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                return null;
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                return new long[] {reader.getWidth(0), reader.getHeight(0)};
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException | OutOfMemoryError e) {
            return null;
        }
    }

    private DecodeResult decodeOrRunOutOfMemory(byte[] bytes) {
        if (bytes.length == 0) {
            return DecodeResult.reject(RejectReason.ZERO_BYTES, "empty file");
        }
        DecodeResult fast;
        try {
            fast = decoders.turboJpeg() && isJpeg(bytes) ? turboJpeg(bytes)
                    : decoders.javaPng() && PngReader.isPng(bytes) ? javaPng(bytes) : null;
        } catch (RuntimeException e) {
            fast = null; // a fast decoder never decides a rejection, ImageIO does (FastDecodersTest calls them directly)
        }
        return fast != null ? fast : imageIo(bytes);
    }

    /** The image decoded by libjpeg-turbo, or null when ImageIO is to decide (see {@link TurboJpeg}). */
    private DecodeResult turboJpeg(byte[] bytes) {
        try (TurboJpeg.Session jpeg = TurboJpeg.open()) {
            TurboJpeg.Header header = jpeg.header(bytes);
            // a header failing a check is ImageIO's to reject (from its own reading of the header, before decoding)
            if (header == null || !header.convertible()
                    || checkHeader("jpeg", header.width(), header.height(), bytes.length) != null) {
                return null;
            }
            RgbImage image = jpeg.decode(bytes, header.width(), header.height());
            return image == null ? null : DecodeResult.ok(image);
        }
    }

    /** The image decoded by {@link PngReader}, or null when ImageIO is to decide. */
    private DecodeResult javaPng(byte[] bytes) {
        PngReader.Header header = PngReader.header(bytes);
        if (header == null || !header.supported()
                || checkHeader("png", header.width(), header.height(), bytes.length) != null) {
            return null;
        }
        RgbImage image = PngReader.decode(bytes, header, decoders.libDeflate());
        return image == null ? null : DecodeResult.ok(image);
    }

    static boolean isJpeg(byte[] bytes) {
        return bytes.length >= 3 && (bytes[0] & 0xff) == 0xff && (bytes[1] & 0xff) == 0xd8
                && (bytes[2] & 0xff) == 0xff;
    }

    /**
     * The rejection for a header declaring width x height in a file of {@code fileBytes} bytes, or null: above the
     * pixel limit, below the minimum side, or more pixels than the file could encode (checked before decoding).
     */
    private DecodeResult checkHeader(String format, int width, int height, long fileBytes) {
        if ((long) width * height > maxPixels) {
            return DecodeResult.reject(RejectReason.TOO_LARGE, format + " header declares " + width + "x"
                    + height + " = " + (long) width * height + " pixels, above the limit of " + maxPixels);
        }
        if (Math.min(width, height) < minSize) {
            return DecodeResult.reject(RejectReason.TOO_SMALL, width + "x" + height
                    + " is below the minimum side of " + minSize);
        }
        long needed = minimumEncodedBytes(format, width, height);
        if (fileBytes < needed) {
            return DecodeResult.reject(RejectReason.TRUNCATED, format + " header declares " + width + "x"
                    + height + ", which takes at least " + needed + " bytes to encode, but the file has "
                    + fileBytes + " (checked before decoding)");
        }
        return null;
    }

    private DecodeResult imageIo(byte[] bytes) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                return DecodeResult.reject(RejectReason.NOT_AN_IMAGE, "no image decoder recognises the bytes");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                String format = reader.getFormatName().toLowerCase(java.util.Locale.ROOT);
                int width;
                int height;
                try {
                    width = reader.getWidth(0);
                    height = reader.getHeight(0);
                } catch (IOException | RuntimeException e) {
                    return failure(format + " header", e);
                }
                DecodeResult rejected = checkHeader(format, width, height, bytes.length);
                if (rejected != null) {
                    return rejected;
                }
                if (format.equals("gif")) {
                    // ImageIO pads a GIF frame whose data runs out with black instead of failing
                    // more than a row short: the count may miss the last code of a valid stream (seen in fuzzing)
                    long coded = gifFirstFramePixels(bytes, (long) width * height);
                    if (coded >= 0 && coded + width < (long) width * height) {
                        return DecodeResult.reject(RejectReason.TRUNCATED, "gif frame declares " + width + "x"
                                + height + " = " + (long) width * height + " pixels but its data holds only "
                                + coded);
                    }
                }
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
                RgbImage image;
                try {
                    image = toRgb(reader.read(0));
                } catch (javax.imageio.IIOException e) {
                    if (format.contains("jpeg") && String.valueOf(e.getMessage()).contains("Unsupported Image Type")) {
                        image = cmykToRgb(reader.readRaster(0, null));
                    } else {
                        return failure(format, e);
                    }
                }
                if (warnings.stream().anyMatch(w -> w.toLowerCase(java.util.Locale.ROOT).contains("premature end"))) {
                    return DecodeResult.reject(RejectReason.TRUNCATED, format + ": " + warnings.get(0));
                }
                return DecodeResult.ok(image);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) { // an OutOfMemoryError is decode()'s: retry_later
            return failure("image", e);
        }
    }

    /**
     * A lower bound on the size of any file of this format holding width x height pixels, so that a header lying
     * about its size in a small file is rejected before the decoder allocates the image (a 3 KB JPEG declaring
     * 10000 x 10000 took 2 s and 600 MB to be found truncated). JPEG: at least one bit per 16 x 16 pixels (the DC
     * code of each data unit, for the most subsampled component). PNG: one bit per pixel and a filter byte per row,
     * deflated at most 1100:1 (deflate's limit is about 1032:1). 0 for the other formats.
     */
    static long minimumEncodedBytes(String format, long width, long height) {
        return switch (format) {
            case "jpeg", "jpg" -> ((width + 15) / 16) * ((height + 15) / 16) / 8;
            case "png" -> height * (1 + (width + 7) / 8) / 1100;
            default -> 0;
        };
    }

    /**
     * How many pixels the LZW data of a GIF's first frame yields, counting at most {@code enough}; -1 when the block
     * structure cannot be followed (ImageIO then decides). Only the lengths of the dictionary's strings are tracked,
     * so this costs one pass over the compressed bytes and no pixel memory.
     */
    static long gifFirstFramePixels(byte[] gif, long enough) {
        if (gif.length < 13) {
            return -1;
        }
        int at = 13 + colourTable(gif[10]);
        while (at < gif.length && (gif[at] & 0xff) == 0x21) { // extensions: label, then sub-blocks
            at = skipSubBlocks(gif, at + 2);
        }
        if (at + 10 >= gif.length || (gif[at] & 0xff) != 0x2c) {
            return -1;
        }
        at += 10 + colourTable(gif[at + 9]);
        if (at >= gif.length) {
            return 0;
        }
        int minCodeSize = gif[at++] & 0xff;
        if (minCodeSize < 1 || minCodeSize > 11) {
            return -1;
        }
        java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
        while (at < gif.length && gif[at] != 0) {
            int size = gif[at] & 0xff;
            data.write(gif, at + 1, Math.min(size, gif.length - at - 1));
            at += size + 1;
        }
        byte[] codes = data.toByteArray();
        // Encoders differ on when the code width grows (as the table reaches 2^n entries, or one code later, as
        // ImageIO's writer does): each reading either ends cleanly (end code or end of data) with a count, or meets
        // a code it cannot follow (-1, undecided). A valid stream counts in full under one of them.
        return Math.max(lzwPixels(codes, minCodeSize, enough, 0), lzwPixels(codes, minCodeSize, enough, 1));
    }

    private static int colourTable(byte packed) {
        return (packed & 0x80) != 0 ? 3 * (1 << ((packed & 7) + 1)) : 0;
    }

    private static int skipSubBlocks(byte[] gif, int at) {
        while (at < gif.length && gif[at] != 0) {
            at += (gif[at] & 0xff) + 1;
        }
        return at + 1;
    }

    /**
     * Pixels an LZW code stream (GIF variant: LSB-first codes, 12 bits at most) expands to, up to enough; the code
     * width grows once the table holds {@code 2^width + late} entries. -1 when a code cannot be followed.
     */
    private static long lzwPixels(byte[] data, int minCodeSize, long enough, int late) {
        int clear = 1 << minCodeSize;
        int end = clear + 1;
        int[] length = new int[4096];
        java.util.Arrays.fill(length, 0, clear, 1);
        int next = clear + 2;
        int codeSize = minCodeSize + 1;
        int previous = -1;
        long pixels = 0;
        long bits = (long) data.length * 8;
        for (long bit = 0; bit + codeSize <= bits && pixels < enough; bit += codeSize) {
            int code = 0;
            for (int k = 0; k < codeSize; k++) {
                long b = bit + k;
                code |= ((data[(int) (b >>> 3)] >> (b & 7)) & 1) << k;
            }
            if (code == clear) {
                next = clear + 2;
                codeSize = minCodeSize + 1;
                previous = -1;
                continue;
            }
            if (code == end) {
                break;
            }
            if (previous < 0) {
                if (code >= clear) {
                    return -1; // the first code after a clear must be a literal
                }
                pixels += 1;
            } else {
                int produced;
                if (code < next && code != clear && code != end && length[code] > 0) {
                    produced = length[code];
                } else if (code == next) {
                    produced = length[previous] + 1;
                } else {
                    return -1; // a code not yet in the table
                }
                pixels += produced;
                if (next < 4096) {
                    length[next++] = length[previous] + 1;
                    if (next == (1 << codeSize) + late && codeSize < 12) {
                        codeSize++;
                    }
                }
            }
            previous = code;
        }
        return pixels;
    }

    private static DecodeResult failure(String what, Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof EOFException || String.valueOf(t.getMessage()).toLowerCase(java.util.Locale.ROOT)
                    .matches(".*(premature end|unexpected end|truncated|eof).*")) {
                return DecodeResult.reject(RejectReason.TRUNCATED, what + " data ends early: " + message(error));
            }
        }
        return DecodeResult.reject(RejectReason.CORRUPT, what + " is invalid: " + message(error));
    }

    private static String message(Throwable error) {
        return error.getClass().getSimpleName() + (error.getMessage() == null ? "" : ": " + error.getMessage());
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
                || cm.getColorSpace().getType() != java.awt.color.ColorSpace.TYPE_GRAY
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
