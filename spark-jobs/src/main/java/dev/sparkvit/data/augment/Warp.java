package dev.sparkvit.data.augment;

import dev.sparkvit.data.image.FloatImage;

/** Inverse-mapped resampling shared by the geometric transforms: bilinear, constant fill outside the image. */
final class Warp {
    /** Fill of uncovered pixels: mid gray, close to a dataset mean (timm's RandAugment fills with the mean). */
    static final float FILL = 0.5f;

    private Warp() {
    }

    /**
     * Output pixel (x, y) takes the source at {@code (a x + b y + c, d x + e y + f)}, in pixel-centre coordinates
     * relative to the image centre.
     */
    static FloatImage affine(FloatImage image, double a, double b, double c, double d, double e, double f) {
        int w = image.width();
        int h = image.height();
        double cx = w / 2.0;
        double cy = h / 2.0;
        float[] out = new float[image.data().length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double ox = x + 0.5 - cx;
                double oy = y + 0.5 - cy;
                double sx = a * ox + b * oy + c + cx - 0.5;
                double sy = d * ox + e * oy + f + cy - 0.5;
                sample(image, sx, sy, out, y * w + x);
            }
        }
        return new FloatImage(image.channels(), h, w, out);
    }

    /** Bilinear sample of every channel at source (sx, sy) into {@code out} at plane index {@code index}. */
    static void sample(FloatImage image, double sx, double sy, float[] out, int index) {
        int w = image.width();
        int h = image.height();
        int plane = w * h;
        int x0 = (int) Math.floor(sx);
        int y0 = (int) Math.floor(sy);
        float fx = (float) (sx - x0);
        float fy = (float) (sy - y0);
        float[] in = image.data();
        for (int c = 0; c < image.channels(); c++) {
            int base = c * plane;
            float v00 = at(in, base, w, h, x0, y0);
            float v10 = at(in, base, w, h, x0 + 1, y0);
            float v01 = at(in, base, w, h, x0, y0 + 1);
            float v11 = at(in, base, w, h, x0 + 1, y0 + 1);
            out[base + index] = (v00 * (1 - fx) + v10 * fx) * (1 - fy) + (v01 * (1 - fx) + v11 * fx) * fy;
        }
    }

    private static float at(float[] in, int base, int w, int h, int x, int y) {
        return x < 0 || y < 0 || x >= w || y >= h ? FILL : in[base + y * w + x];
    }
}
