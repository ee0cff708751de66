package dev.sparkvit.data.ingest;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;

/** Malformed input files for ingestion tests, made by code. */
final class BadFiles {
    private BadFiles() {
    }

    static byte[] encode(BufferedImage image, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(image, format, out)) {
            throw new IOException("no writer for " + format);
        }
        return out.toByteArray();
    }

    static BufferedImage noise(int width, int height, long seed) {
        Random random = new Random(seed);
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, random.nextInt(1 << 24));
            }
        }
        return image;
    }

    /** JPEG start-of-image marker followed by junk: recognised as JPEG, fails to decode. */
    static byte[] corruptJpeg() throws IOException {
        byte[] jpeg = encode(noise(40, 40, 1), "jpg");
        byte[] bytes = Arrays.copyOf(jpeg, jpeg.length);
        Random random = new Random(2);
        for (int i = 4; i < bytes.length; i++) {
            bytes[i] = (byte) random.nextInt(256);
        }
        return bytes;
    }

    /** The first half of a valid PNG. */
    static byte[] truncatedPng() throws IOException {
        byte[] png = encode(noise(64, 64, 3), "png");
        return Arrays.copyOf(png, png.length / 2);
    }

    /** A PNG signature and IHDR chunk declaring width x height, and nothing else. */
    static byte[] pngHeader(int width, int height) {
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height)
                .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        CRC32 crc = new CRC32();
        crc.update("IHDR".getBytes(StandardCharsets.US_ASCII));
        crc.update(ihdr.array());
        return ByteBuffer.allocate(8 + 4 + 4 + 13 + 4)
                .put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'})
                .putInt(13).put("IHDR".getBytes(StandardCharsets.US_ASCII)).put(ihdr.array())
                .putInt((int) crc.getValue()).array();
    }

    /** {@code png} (a valid PNG) with its IHDR declaring width x height, the chunk's CRC recomputed to match. */
    static byte[] pngDeclaring(byte[] png, int width, int height) {
        byte[] bytes = png.clone();
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        buffer.putInt(16, width).putInt(20, height);
        CRC32 crc = new CRC32();
        crc.update(bytes, 12, 17); // chunk type and data
        buffer.putInt(29, (int) crc.getValue());
        return bytes;
    }

    /** {@code jpeg} (a valid JPEG) with its start-of-frame segment declaring width x height (16 bits each). */
    static byte[] jpegDeclaring(byte[] jpeg, int width, int height) {
        byte[] bytes = jpeg.clone();
        int i = 2;
        while (i + 9 < bytes.length) {
            if ((bytes[i] & 0xff) != 0xff) {
                i++;
                continue;
            }
            int marker = bytes[i + 1] & 0xff;
            if (marker >= 0xc0 && marker <= 0xc3) {
                bytes[i + 5] = (byte) (height >> 8);
                bytes[i + 6] = (byte) height;
                bytes[i + 7] = (byte) (width >> 8);
                bytes[i + 8] = (byte) width;
                return bytes;
            }
            i += 2 + (((bytes[i + 2] & 0xff) << 8) | (bytes[i + 3] & 0xff));
        }
        throw new IllegalArgumentException("no start-of-frame segment");
    }

    /**
     * {@code gif} (a valid GIF) with its logical screen and, when {@code frameToo}, its first image descriptor
     * declaring width x height (16 bits each, little-endian).
     */
    static byte[] gifDeclaring(byte[] gif, int width, int height, boolean frameToo) {
        byte[] bytes = gif.clone();
        putShortLe(bytes, 6, width);
        putShortLe(bytes, 8, height);
        if (frameToo) {
            int descriptor = gifFirstDescriptor(bytes);
            putShortLe(bytes, descriptor + 5, width);
            putShortLe(bytes, descriptor + 7, height);
        }
        return bytes;
    }

    /** Offset of the first image descriptor (0x2C) of a GIF, past the colour table and any extensions. */
    static int gifFirstDescriptor(byte[] gif) {
        int packed = gif[10] & 0xff;
        int i = 13 + ((packed & 0x80) != 0 ? 3 * (1 << ((packed & 7) + 1)) : 0);
        while (i < gif.length && (gif[i] & 0xff) == 0x21) {
            i += 2;
            while (i < gif.length && gif[i] != 0) {
                i += (gif[i] & 0xff) + 1;
            }
            i++;
        }
        if (i >= gif.length || (gif[i] & 0xff) != 0x2c) {
            throw new IllegalArgumentException("no image descriptor");
        }
        return i;
    }

    /** {@code bmp} (a valid BMP with a BITMAPINFOHEADER) declaring width x height (32 bits each). */
    static byte[] bmpDeclaring(byte[] bmp, int width, int height) {
        byte[] bytes = bmp.clone();
        ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(18, width).putInt(22, height);
        return bytes;
    }

    private static void putShortLe(byte[] bytes, int at, int value) {
        bytes[at] = (byte) value;
        bytes[at + 1] = (byte) (value >> 8);
    }

    /**
     * A file that cannot be read even by root: a Unix domain socket (opening it for reading fails with "No such
     * device or address"). Permission bits would not do, since tests may run as root.
     */
    static void unreadable(Path path) throws IOException {
        try (ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.bind(UnixDomainSocketAddress.of(path));
        }
    }

    static void write(Path path, byte[] bytes) throws IOException {
        Files.createDirectories(path.getParent());
        Files.write(path, bytes);
    }
}
