package dev.sparkvit.data.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * GifReader on hand-built files: the block structure it skips, the code streams it cannot follow (-1), and LZW
 * streams of both code-width conventions. ImageDecoderTest checks it against files ImageIO's writer makes.
 */
class GifReaderTest {
    /** Variable-width LSB-first codes, as GIF packs them. */
    private static final class Codes {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private long buffer;
        private int bits;

        Codes put(int code, int width) {
            buffer |= (long) code << bits;
            bits += width;
            while (bits >= 8) {
                bytes.write((int) (buffer & 0xff));
                buffer >>>= 8;
                bits -= 8;
            }
            return this;
        }

        byte[] bytes() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(bytes.toByteArray());
            if (bits > 0) {
                out.write((int) (buffer & 0xff));
            }
            return out.toByteArray();
        }
    }

    /**
     * A GIF89a file: no global colour table, a graphic control extension, one image descriptor with a local table
     * of 2^minCodeSize grays, then the LZW data in sub-blocks of at most 255 bytes and the trailer.
     */
    private static byte[] file(int width, int height, int minCodeSize, byte[] lzw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes("GIF89a".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        writeShort(out, width);
        writeShort(out, height);
        out.writeBytes(new byte[] {0, 0, 0});
        out.writeBytes(new byte[] {0x21, (byte) 0xf9, 4, 0, 0, 0, 0, 0});
        out.write(0x2c);
        writeShort(out, 0);
        writeShort(out, 0);
        writeShort(out, width);
        writeShort(out, height);
        int tableBits = Math.max(minCodeSize, 1);
        out.write(0x80 | (tableBits - 1));
        for (int i = 0; i < 1 << tableBits; i++) {
            int gray = i * 255 / ((1 << tableBits) - 1);
            out.writeBytes(new byte[] {(byte) gray, (byte) gray, (byte) gray});
        }
        out.write(minCodeSize);
        for (int at = 0; at < lzw.length; at += 255) {
            int size = Math.min(255, lzw.length - at);
            out.write(size);
            out.write(lzw, at, size);
        }
        out.write(0);
        out.write(0x3b);
        return out.toByteArray();
    }

    private static void writeShort(ByteArrayOutputStream out, int value) {
        out.write(value & 0xff);
        out.write(value >> 8);
    }

    /**
     * An LZW encoder (dictionary of strings, a clear code when the table is full) that widens its codes as a
     * decoder does once its table holds 2^width + late entries: late 0 is the usual convention, late 1 one code
     * later. The decoder adds each entry one code after the encoder, so the width is tracked from its side.
     */
    private static byte[] lzw(int[] pixels, int minCodeSize, int late) {
        int clear = 1 << minCodeSize;
        Codes codes = new Codes();
        Map<Long, Integer> table = new HashMap<>();
        int next = clear + 2;
        int width = minCodeSize + 1;
        int decoderNext = clear + 2;
        boolean first = true;
        codes.put(clear, width);
        int prefix = pixels[0];
        for (int i = 1; i <= pixels.length; i++) {
            Integer known = i < pixels.length ? table.get((long) prefix << 12 | pixels[i]) : null;
            if (known != null) {
                prefix = known;
                continue;
            }
            codes.put(prefix, width);
            if (first) {
                first = false;
            } else if (decoderNext < 4096) {
                decoderNext++;
                if (decoderNext == (1 << width) + late && width < 12) {
                    width++;
                }
            }
            if (i == pixels.length) {
                break;
            }
            if (next < 4096) {
                table.put((long) prefix << 12 | pixels[i], next++);
            } else {
                codes.put(clear, width);
                table.clear();
                next = clear + 2;
                decoderNext = clear + 2;
                width = minCodeSize + 1;
                first = true;
            }
            prefix = pixels[i];
        }
        codes.put(clear + 1, width);
        return codes.bytes();
    }

    private static int[] noise(int count, int colours, long seed) {
        Random random = new Random(seed);
        int[] pixels = new int[count];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = random.nextInt(colours);
        }
        return pixels;
    }

    /** Noise fills the table several times over: the widths 9 to 12 and the clears in between are all read. */
    @Test
    void aStreamOfEitherWidthConventionCountsEveryPixel() {
        for (int late : new int[] {0, 1}) {
            int[] pixels = noise(300 * 200, 256, 11 + late);
            byte[] gif = file(300, 200, 8, lzw(pixels, 8, late));
            assertEquals(300 * 200, GifReader.firstFramePixels(gif, Long.MAX_VALUE), "late " + late);
        }
        int[] runs = new int[120 * 90]; // long strings: the count is of pixels, not of codes
        for (int i = 0; i < runs.length; i++) {
            runs[i] = (i / 97) % 4;
        }
        assertEquals(runs.length, GifReader.firstFramePixels(file(120, 90, 2, lzw(runs, 2, 0)), Long.MAX_VALUE));
    }

    /**
     * ImageIO's writer clears the table at 12-bit codes on large noisy frames. The code after each clear used to be
     * read at the wrong bit offset (the loop advanced by the width after the clear, not the width of the clear), so
     * such valid frames counted as undecided (-1) or, when the misread codes happened to hold an end code, short.
     */
    @Test
    void largeImageIoGifsWithTableClearsCountEveryPixel() throws IOException {
        for (int[] size : new int[][] {{300, 200}, {1000, 700}}) {
            BufferedImage image = new BufferedImage(size[0], size[1], BufferedImage.TYPE_BYTE_INDEXED);
            Random random = new Random(size[0]);
            for (int y = 0; y < size[1]; y++) {
                for (int x = 0; x < size[0]; x++) {
                    image.getRaster().setSample(x, y, 0, random.nextInt(256));
                }
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertTrue(ImageIO.write(image, "gif", out));
            assertEquals((long) size[0] * size[1], GifReader.firstFramePixels(out.toByteArray(), Long.MAX_VALUE),
                    size[0] + "x" + size[1]);
        }
    }

    /** The encoder above writes real GIFs: ImageIO reads its usual-convention files back to the same pixels. */
    @Test
    void theHandBuiltFilesAreGifsImageIoDecodes() throws IOException {
        int[] pixels = noise(300 * 200, 256, 3); // the table fills and is cleared several times
        BufferedImage read = ImageIO.read(new ByteArrayInputStream(file(300, 200, 8, lzw(pixels, 8, 0))));
        int[] gray = new int[pixels.length];
        read.getRaster().getSamples(0, 0, 300, 200, 0, gray);
        assertArrayEquals(pixels, gray); // the samples of a palette image are its indices
    }

    @Test
    void countingStopsOnceEnoughPixelsAreSeen() {
        byte[] gif = file(300, 200, 8, lzw(noise(300 * 200, 256, 5), 8, 0));
        long counted = GifReader.firstFramePixels(gif, 1000);
        assertTrue(counted >= 1000 && counted < 1100, "counted " + counted);
    }

    @Test
    void dataCutShortCountsWhatItHolds() {
        byte[] lzw = lzw(noise(64 * 48, 256, 9), 8, 0);
        long counted = GifReader.firstFramePixels(file(64, 48, 8, Arrays.copyOf(lzw, lzw.length / 2)), Long.MAX_VALUE);
        assertTrue(counted > 0 && counted < 64 * 48 * 2 / 3, "counted " + counted);
        byte[] gif = file(64, 48, 8, lzw);
        assertEquals(0, GifReader.firstFramePixels(Arrays.copyOf(gif, 13 + 8 + 10 + 100), Long.MAX_VALUE),
                "a file ending inside the local colour table holds no pixels");
    }

    @Test
    void theEndCodeEndsTheCount() {
        // literals 1, 2, 3, end, then codes that would add pixels were they read (4-bit codes throughout)
        byte[] lzw = new Codes().put(8, 4).put(1, 4).put(2, 4).put(3, 4).put(9, 4).put(1, 4).put(2, 4).bytes();
        assertEquals(3, GifReader.firstFramePixels(file(8, 8, 3, lzw), Long.MAX_VALUE));
    }

    @Test
    void aStreamItCannotFollowIsUndecided() {
        // after a clear, the first code must be a literal: 6 is the first free table code
        byte[] notLiteral = new Codes().put(4, 3).put(6, 3).put(1, 3).bytes();
        assertEquals(-1, GifReader.firstFramePixels(file(8, 8, 2, notLiteral), Long.MAX_VALUE));
        // 7 is two codes beyond the table (next is 6): no decoder can expand it
        byte[] beyondTable = new Codes().put(4, 3).put(1, 3).put(7, 3).bytes();
        assertEquals(-1, GifReader.firstFramePixels(file(8, 8, 2, beyondTable), Long.MAX_VALUE));
        // code == next (the KwKwK case) is valid: 1, then 6 = "1 1"
        byte[] kwkwk = new Codes().put(4, 3).put(1, 3).put(6, 3).put(5, 3).bytes();
        assertEquals(3, GifReader.firstFramePixels(file(8, 8, 2, kwkwk), Long.MAX_VALUE));
    }

    @Test
    void aBrokenBlockStructureIsUndecided() {
        byte[] gif = file(8, 8, 2, new Codes().put(4, 3).put(1, 3).put(5, 3).bytes());
        assertEquals(1, GifReader.firstFramePixels(gif, Long.MAX_VALUE));
        assertEquals(-1, GifReader.firstFramePixels(Arrays.copyOf(gif, 12), Long.MAX_VALUE), "shorter than a header");
        byte[] trailerOnly = Arrays.copyOf(gif, 14);
        trailerOnly[13] = 0x3b;
        assertEquals(-1, GifReader.firstFramePixels(trailerOnly, Long.MAX_VALUE), "no image descriptor");
        int codeSize = 13 + 8 + 10 + 12; // header, extension, descriptor, a local table of 4 entries
        assertEquals(2, gif[codeSize]);
        for (int bad : new int[] {0, 12}) {
            byte[] badSize = gif.clone();
            badSize[codeSize] = (byte) bad;
            assertEquals(-1, GifReader.firstFramePixels(badSize, Long.MAX_VALUE), "minimum code size " + bad);
        }
    }
}
