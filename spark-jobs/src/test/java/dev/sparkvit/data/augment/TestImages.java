package dev.sparkvit.data.augment;

import dev.sparkvit.data.image.FloatImage;
import java.util.Random;

/** Random float images and pixel access for image tests (augmentations, test-time views, inference). */
public final class TestImages {
    private TestImages() {
    }

    /** A 3-channel image of uniform [0, 1) values. */
    public static FloatImage random(int h, int w, long seed) {
        Random r = new Random(seed);
        float[] d = new float[3 * h * w];
        for (int i = 0; i < d.length; i++) {
            d[i] = r.nextFloat();
        }
        return new FloatImage(3, h, w, d);
    }

    public static float at(FloatImage img, int c, int y, int x) {
        return img.data()[(c * img.height() + y) * img.width() + x];
    }
}
