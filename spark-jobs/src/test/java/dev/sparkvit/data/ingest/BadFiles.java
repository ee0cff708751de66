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
