package dev.sparkvit.data.image;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * Reads a GIF's block structure (header, colour tables, extensions, the first image descriptor) and its first frame's
 * LZW code stream without decoding a pixel: how many pixels the coded data yields. ImageIO pads a frame whose data
 * runs out with black instead of failing, so {@link ImageDecoder} compares this count with the declared size to
 * reject such a frame as truncated. Never throws for bad input; -1 means "cannot tell", and ImageIO decides.
 */
final class GifReader {
    private GifReader() {
    }

    /**
     * How many pixels the LZW data of a GIF's first frame yields, counting at most {@code enough}; -1 when the block
     * structure cannot be followed (ImageIO then decides). Only the lengths of the dictionary's strings are tracked,
     * so this costs one pass over the compressed bytes and no pixel memory.
     */
    static long firstFramePixels(byte[] gif, long enough) {
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
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        while (at < gif.length && gif[at] != 0) {
            int size = gif[at] & 0xff;
            data.write(gif, at + 1, Math.min(size, gif.length - at - 1));
            at += size + 1;
        }
        byte[] codes = data.toByteArray();
        // The code width grows as the table reaches 2^n entries (ImageIO's writer, GifReaderTest); a stream that
        // widens one code later is read as well. Each reading either ends cleanly (end code or end of data) with a
        // count, or meets a code it cannot follow (-1, undecided). A valid stream counts in full under one of them.
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
        Arrays.fill(length, 0, clear, 1);
        int next = clear + 2;
        int codeSize = minCodeSize + 1;
        int previous = -1;
        long pixels = 0;
        long bits = (long) data.length * 8;
        long bit = 0;
        while (bit + codeSize <= bits && pixels < enough) {
            int code = 0;
            for (int k = 0; k < codeSize; k++) {
                long b = bit + k;
                code |= ((data[(int) (b >>> 3)] >> (b & 7)) & 1) << k;
            }
            bit += codeSize; // the width this code was read at, before a clear or the table's growth changes it
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
}
