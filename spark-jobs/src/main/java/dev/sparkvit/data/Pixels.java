package dev.sparkvit.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import javax.imageio.ImageIO;

/** Decoding image bytes into channels-first float pixels. */
public final class Pixels {
    private Pixels() {
    }

    /**
     * Decodes PNG/JPEG/BMP/GIF bytes with ImageIO.
     *
     * @throws IOException when the bytes are not an image ImageIO can read
     */
    public static BufferedImage decode(byte[] bytes, String source) throws IOException {
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(bytes));
        if (image == null) {
            throw new IOException(source + " is not an image format this JVM can decode");
        }
        return image;
    }

    /**
     * RGB pixels as floats in [-1, 1], channels first: index {@code (c * height + y) * width + x}.
     */
    public static float[] toChwFloats(BufferedImage image) {
        int width = image.getWidth();
        int height = image.getHeight();
        float[] chw = new float[3 * width * height];
        int plane = width * height;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int rgb = image.getRGB(x, y);
                int i = y * width + x;
                chw[i] = ((rgb >> 16) & 0xff) / 127.5f - 1f;
                chw[plane + i] = ((rgb >> 8) & 0xff) / 127.5f - 1f;
                chw[2 * plane + i] = (rgb & 0xff) / 127.5f - 1f;
            }
        }
        return chw;
    }
}
