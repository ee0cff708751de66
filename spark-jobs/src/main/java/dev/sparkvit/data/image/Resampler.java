package dev.sparkvit.data.image;

/**
 * Separable bilinear resampling with antialiasing, as PIL's {@code Image.resize(size, BILINEAR, box)}: a triangle
 * filter whose support widens by the downscaling factor, so shrinking averages every source pixel instead of
 * skipping most of them. The source region is a (possibly fractional) box, so a crop and a resize are one pass.
 */
public final class Resampler {
    private Resampler() {
    }

    /** Resamples the box (x0, y0, boxWidth, boxHeight) of {@code src} to outWidth x outHeight. */
    public static FloatImage resize(FloatImage src, double x0, double y0, double boxWidth, double boxHeight,
            int outWidth, int outHeight) {
        if (outWidth <= 0 || outHeight <= 0 || boxWidth <= 0 || boxHeight <= 0) {
            throw new IllegalArgumentException("resize to " + outWidth + "x" + outHeight + " from a " + boxWidth + "x"
                    + boxHeight + " box is invalid");
        }
        Axis horizontal = new Axis(src.width(), x0, boxWidth, outWidth);
        Axis vertical = new Axis(src.height(), y0, boxHeight, outHeight);
        int channels = src.channels();
        float[] tmp = new float[channels * src.height() * outWidth];
        float[] in = src.data();
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < src.height(); y++) {
                int rowIn = (c * src.height() + y) * src.width();
                int rowOut = (c * src.height() + y) * outWidth;
                for (int x = 0; x < outWidth; x++) {
                    tmp[rowOut + x] = horizontal.apply(in, rowIn, 1, x);
                }
            }
        }
        float[] out = new float[channels * outHeight * outWidth];
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < outHeight; y++) {
                int rowOut = (c * outHeight + y) * outWidth;
                for (int x = 0; x < outWidth; x++) {
                    out[rowOut + x] = vertical.apply(tmp, c * src.height() * outWidth + x, outWidth, y);
                }
            }
        }
        return new FloatImage(channels, outHeight, outWidth, out);
    }

    /** Scales the shorter side to {@code size} and crops the centred size x size square, in one resampling pass. */
    public static FloatImage shorterSideThenCenterCrop(FloatImage src, int size) {
        double scale = (double) size / Math.min(src.width(), src.height());
        double boxWidth = size / scale;
        double boxHeight = size / scale;
        double x0 = (src.width() - boxWidth) / 2;
        double y0 = (src.height() - boxHeight) / 2;
        return resize(src, x0, y0, boxWidth, boxHeight, size, size);
    }

    /** Filter taps of one axis: for each output index, the first source index and normalised weights. */
    private static final class Axis {
        private final int[] first;
        private final float[][] weights;

        Axis(int sourceSize, double start, double length, int outSize) {
            double scale = length / outSize;
            double support = Math.max(scale, 1.0);
            first = new int[outSize];
            weights = new float[outSize][];
            for (int i = 0; i < outSize; i++) {
                double center = start + (i + 0.5) * scale;
                int lo = Math.max(0, (int) Math.floor(center - support));
                int hi = Math.min(sourceSize - 1, (int) Math.ceil(center + support));
                float[] w = new float[Math.max(1, hi - lo + 1)];
                double sum = 0;
                for (int j = lo; j <= hi; j++) {
                    double t = Math.abs((j + 0.5 - center) / support);
                    double v = t < 1 ? 1 - t : 0;
                    w[j - lo] = (float) v;
                    sum += v;
                }
                if (sum == 0) { // box entirely outside the image: nearest edge pixel
                    lo = Math.max(0, Math.min(sourceSize - 1, (int) Math.floor(center)));
                    w = new float[] {1f};
                    sum = 1;
                }
                for (int k = 0; k < w.length; k++) {
                    w[k] /= (float) sum;
                }
                first[i] = lo;
                weights[i] = w;
            }
        }

        float apply(float[] data, int base, int stride, int index) {
            float[] w = weights[index];
            int at = base + first[index] * stride;
            float sum = 0;
            for (int k = 0; k < w.length; k++) {
                sum += w[k] * data[at + k * stride];
            }
            return sum;
        }
    }
}
