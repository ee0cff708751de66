package dev.sparkvit.data.image;

/**
 * An 8-bit RGB image, row-major and interleaved: byte {@code (y * width + x) * 3 + c} is channel c (R, G, B).
 *
 * @param width columns
 * @param height rows
 * @param pixels {@code width * height * 3} bytes, each an unsigned 0..255 value
 */
public record RgbImage(int width, int height, byte[] pixels) {
    public RgbImage {
        // long: stored rows may come from a dataset someone else wrote, and 65536 x 65536 x 3 is 0 as an int
        if (width <= 0 || height <= 0 || pixels == null || pixels.length != (long) width * height * 3) {
            throw new IllegalArgumentException("an RGB image of " + width + "x" + height + " needs "
                    + (long) width * height * 3 + " bytes, got " + (pixels == null ? "none" : pixels.length));
        }
    }

    /** Channel c of pixel (x, y) as 0..255. */
    public int get(int x, int y, int c) {
        return pixels[(y * width + x) * 3 + c] & 0xff;
    }
}
