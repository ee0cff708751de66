package dev.sparkvit.data.image;

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
 * dropped, as PIL's {@code convert("RGB")}; {@link RgbConversion}); CMYK JPEGs, which ImageIO's colour conversion
 * refuses, are converted from their raw raster (Adobe inverted CMYK when the decoder reports it). A GIF frame whose
 * data holds fewer pixels than it declares ({@link GifReader}) is truncated, not padded with black as ImageIO would.
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
                    long coded = GifReader.firstFramePixels(bytes, (long) width * height);
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
                    image = RgbConversion.toRgb(reader.read(0));
                } catch (javax.imageio.IIOException e) {
                    if (format.contains("jpeg") && String.valueOf(e.getMessage()).contains("Unsupported Image Type")) {
                        image = RgbConversion.cmykToRgb(reader.readRaster(0, null));
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
}
