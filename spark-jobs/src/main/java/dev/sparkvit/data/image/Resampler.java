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
        check(boxWidth, boxHeight, outWidth, outHeight);
        Axis horizontal = new Axis(src.width(), x0, boxWidth, outWidth);
        Axis vertical = new Axis(src.height(), y0, boxHeight, outHeight);
        int channels = src.channels();
        int rows = vertical.highest - vertical.lowest + 1;
        float[] tmp = new float[channels * rows * outWidth];
        float[] in = src.data();
        int plane = src.height() * src.width();
        for (int y = vertical.lowest; y <= vertical.highest; y++) {
            int row = y - vertical.lowest;
            if (channels == 3) {
                horizontal.applyRow3(in, y * src.width(), plane, tmp, row * outWidth, rows * outWidth);
            } else {
                for (int c = 0; c < channels; c++) {
                    horizontal.applyRow(in, c * plane + y * src.width(), tmp, (c * rows + row) * outWidth);
                }
            }
        }
        return new FloatImage(channels, outHeight, outWidth, vertical.applyColumns(tmp, channels, outWidth));
    }

    /**
     * {@link #resize(FloatImage, double, double, double, double, int, int)} of {@link FloatImage#of}(src), bit for
     * bit, reading the bytes directly: only the pixels under the box are converted to floats, as they are used.
     */
    public static FloatImage resize(RgbImage src, double x0, double y0, double boxWidth, double boxHeight,
            int outWidth, int outHeight) {
        check(boxWidth, boxHeight, outWidth, outHeight);
        Axis horizontal = new Axis(src.width(), x0, boxWidth, outWidth);
        Axis vertical = new Axis(src.height(), y0, boxHeight, outHeight);
        int rows = vertical.highest - vertical.lowest + 1;
        float[] tmp = new float[3 * rows * outWidth];
        byte[] p = src.pixels();
        for (int y = vertical.lowest; y <= vertical.highest; y++) {
            horizontal.applyInterleaved(p, y * src.width() * 3, tmp, (y - vertical.lowest) * outWidth,
                    rows * outWidth);
        }
        return new FloatImage(3, outHeight, outWidth, vertical.applyColumns(tmp, 3, outWidth));
    }

    /** Scales the shorter side to {@code size} and crops the centred size x size square, in one resampling pass. */
    public static FloatImage shorterSideThenCenterCrop(FloatImage src, int size) {
        double[] box = centredBox(src.width(), src.height(), size);
        return resize(src, box[0], box[1], box[2], box[3], size, size);
    }

    /** {@link #shorterSideThenCenterCrop(FloatImage, int)} of {@link FloatImage#of}(src), bit for bit. */
    public static FloatImage shorterSideThenCenterCrop(RgbImage src, int size) {
        double[] box = centredBox(src.width(), src.height(), size);
        return resize(src, box[0], box[1], box[2], box[3], size, size);
    }

    /** x0, y0, width, height of the centred square that scales to size x size with the shorter side filling it. */
    private static double[] centredBox(int width, int height, int size) {
        double scale = (double) size / Math.min(width, height);
        double boxWidth = size / scale;
        double boxHeight = size / scale;
        return new double[] {(width - boxWidth) / 2, (height - boxHeight) / 2, boxWidth, boxHeight};
    }

    private static void check(double boxWidth, double boxHeight, int outWidth, int outHeight) {
        if (outWidth <= 0 || outHeight <= 0 || boxWidth <= 0 || boxHeight <= 0) {
            throw new IllegalArgumentException("resize to " + outWidth + "x" + outHeight + " from a " + boxWidth + "x"
                    + boxHeight + " box is invalid");
        }
    }

    /**
     * Filter taps of one axis: for each output index, the first source index and normalised weights; {@code lowest}
     * and {@code highest} bound the source indices any output reads.
     */
    private static final class Axis {
        private final int[] first;
        private final float[][] weights;
        private final int lowest;
        private final int highest;

        Axis(int sourceSize, double start, double length, int outSize) {
            double scale = length / outSize;
            double support = Math.max(scale, 1.0);
            first = new int[outSize];
            weights = new float[outSize][];
            int min = Integer.MAX_VALUE;
            int max = 0;
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
                min = Math.min(min, lo);
                max = Math.max(max, lo + w.length - 1);
            }
            lowest = min;
            highest = max;
        }

        /** out[outBase + i] = sum over k of w_i[k] * in[inBase + first_i + k], summed from 0 in tap order. */
        void applyRow(float[] in, int inBase, float[] out, int outBase) {
            for (int i = 0; i < first.length; i++) {
                float[] w = weights[i];
                int at = inBase + first[i];
                float sum = 0;
                for (int k = 0; k < w.length; k++) {
                    sum += w[k] * in[at + k];
                }
                out[outBase + i] = sum;
            }
        }

        /**
         * {@link #applyRow} on the same row of three planes {@code planeStride} apart, into three outputs
         * {@code outStride} apart: the same sums in the same order, as three independent chains the CPU can overlap.
         */
        void applyRow3(float[] in, int inBase, int planeStride, float[] out, int outBase, int outStride) {
            for (int i = 0; i < first.length; i++) {
                float[] w = weights[i];
                int at = inBase + first[i];
                float s0 = 0;
                float s1 = 0;
                float s2 = 0;
                for (int k = 0; k < w.length; k++) {
                    float weight = w[k];
                    s0 += weight * in[at + k];
                    s1 += weight * in[at + planeStride + k];
                    s2 += weight * in[at + 2 * planeStride + k];
                }
                out[outBase + i] = s0;
                out[outBase + outStride + i] = s1;
                out[outBase + 2 * outStride + i] = s2;
            }
        }

        /**
         * {@link #applyRow3} on one row of interleaved 8-bit RGB starting at {@code rowStart}, each byte b read as
         * {@link FloatImage#UNIT}[b], as {@link FloatImage#of} converts it.
         */
        void applyInterleaved(byte[] p, int rowStart, float[] out, int outBase, int outStride) {
            float[] unit = FloatImage.UNIT;
            for (int i = 0; i < first.length; i++) {
                float[] w = weights[i];
                int at = rowStart + 3 * first[i];
                float s0 = 0;
                float s1 = 0;
                float s2 = 0;
                for (int k = 0; k < w.length; k++, at += 3) {
                    float weight = w[k];
                    s0 += weight * unit[p[at] & 0xff];
                    s1 += weight * unit[p[at + 1] & 0xff];
                    s2 += weight * unit[p[at + 2] & 0xff];
                }
                out[outBase + i] = s0;
                out[outBase + outStride + i] = s1;
                out[outBase + 2 * outStride + i] = s2;
            }
        }

        /**
         * This axis applied down the columns of {@code channels} planes of rows lowest..highest of {@code width}
         * values each: every output row is a weighted sum of source rows, summed from 0 in tap order as
         * {@link #applyRow} sums, with the pixels in the inner loop.
         */
        float[] applyColumns(float[] tmp, int channels, int width) {
            int rows = highest - lowest + 1;
            float[] out = new float[channels * first.length * width];
            for (int c = 0; c < channels; c++) {
                for (int y = 0; y < first.length; y++) {
                    float[] w = weights[y];
                    int to = (c * first.length + y) * width;
                    for (int k = 0; k < w.length; k++) {
                        float weight = w[k];
                        int from = (c * rows + first[y] + k - lowest) * width;
                        for (int x = 0; x < width; x++) {
                            out[to + x] += weight * tmp[from + x];
                        }
                    }
                }
            }
            return out;
        }
    }
}
