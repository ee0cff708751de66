package dev.sparkvit.data.image;

/**
 * A float image, channels first: value {@code data[(c * height + y) * width + x]}. Pixel values are in [0, 1] until
 * normalised.
 */
public record FloatImage(int channels, int height, int width, float[] data) {
    public FloatImage {
        if (channels <= 0 || height <= 0 || width <= 0 || data.length != channels * height * width) {
            throw new IllegalArgumentException("a " + channels + "x" + height + "x" + width + " image needs "
                    + (long) channels * height * width + " values, got " + data.length);
        }
    }

    /** {@code UNIT[b] = b / 255f}: the float of each 8-bit value, as {@link #of} converts it. */
    static final float[] UNIT = new float[256];

    static {
        for (int b = 0; b < 256; b++) {
            UNIT[b] = b / 255f;
        }
    }

    public static FloatImage zeros(int channels, int height, int width) {
        return new FloatImage(channels, height, width, new float[channels * height * width]);
    }

    /** 8-bit RGB to [0, 1] floats. */
    public static FloatImage of(RgbImage rgb) {
        int plane = rgb.width() * rgb.height();
        float[] data = new float[3 * plane];
        byte[] p = rgb.pixels();
        for (int i = 0; i < plane; i++) {
            data[i] = (p[3 * i] & 0xff) / 255f;
            data[plane + i] = (p[3 * i + 1] & 0xff) / 255f;
            data[2 * plane + i] = (p[3 * i + 2] & 0xff) / 255f;
        }
        return new FloatImage(3, rgb.height(), rgb.width(), data);
    }

    /** Back to 8-bit RGB, rounding and clamping to 0..255 (three channels expected). */
    public RgbImage toRgb() {
        if (channels != 3) {
            throw new IllegalStateException("only 3-channel images convert to RGB, this has " + channels);
        }
        int plane = width * height;
        byte[] p = new byte[3 * plane];
        for (int i = 0; i < plane; i++) {
            for (int c = 0; c < 3; c++) {
                p[3 * i + c] = (byte) Math.max(0, Math.min(255, Math.round(data[c * plane + i] * 255f)));
            }
        }
        return new RgbImage(width, height, p);
    }

    public FloatImage copy() {
        return new FloatImage(channels, height, width, data.clone());
    }
}
