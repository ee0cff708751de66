package dev.sparkvit.model.layers;

/**
 * Sums, dot products and maxima of contiguous float runs, as the layers' row loops need them. A plain
 * {@code for (...) sum += a[i]} is bound by the latency of one add chain, which the JIT may not reorder (Java's
 * float addition is not associative); eight independent partial sums let eight adds run at once. Results are float,
 * summed in a different order than a sequential loop, so they may differ from it in the last bits.
 */
final class Reductions {
    private Reductions() {
    }

    /** {@code a[offset] + ... + a[offset + n - 1]}. */
    static float sum(float[] a, int offset, int n) {
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        float s4 = 0;
        float s5 = 0;
        float s6 = 0;
        float s7 = 0;
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            int p = offset + i;
            s0 += a[p];
            s1 += a[p + 1];
            s2 += a[p + 2];
            s3 += a[p + 3];
            s4 += a[p + 4];
            s5 += a[p + 5];
            s6 += a[p + 6];
            s7 += a[p + 7];
        }
        for (; i < n; i++) {
            s0 += a[offset + i];
        }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }

    /** {@code sum of a[ao + i] * b[bo + i]} for i in [0, n). */
    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        float s4 = 0;
        float s5 = 0;
        float s6 = 0;
        float s7 = 0;
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            int p = ao + i;
            int q = bo + i;
            s0 += a[p] * b[q];
            s1 += a[p + 1] * b[q + 1];
            s2 += a[p + 2] * b[q + 2];
            s3 += a[p + 3] * b[q + 3];
            s4 += a[p + 4] * b[q + 4];
            s5 += a[p + 5] * b[q + 5];
            s6 += a[p + 6] * b[q + 6];
            s7 += a[p + 7] * b[q + 7];
        }
        for (; i < n; i++) {
            s0 += a[ao + i] * b[bo + i];
        }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }

    /** {@code sum of (a[offset + i] - center)^2} for i in [0, n). */
    static float squaredDeviations(float[] a, int offset, int n, float center) {
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        float s4 = 0;
        float s5 = 0;
        float s6 = 0;
        float s7 = 0;
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            int p = offset + i;
            float d0 = a[p] - center;
            float d1 = a[p + 1] - center;
            float d2 = a[p + 2] - center;
            float d3 = a[p + 3] - center;
            float d4 = a[p + 4] - center;
            float d5 = a[p + 5] - center;
            float d6 = a[p + 6] - center;
            float d7 = a[p + 7] - center;
            s0 += d0 * d0;
            s1 += d1 * d1;
            s2 += d2 * d2;
            s3 += d3 * d3;
            s4 += d4 * d4;
            s5 += d5 * d5;
            s6 += d6 * d6;
            s7 += d7 * d7;
        }
        for (; i < n; i++) {
            float d = a[offset + i] - center;
            s0 += d * d;
        }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }

    /** The largest of {@code a[offset .. offset + n - 1]} (n >= 1); NaN when any element is NaN. */
    static float max(float[] a, int offset, int n) {
        float m0 = a[offset];
        float m1 = m0;
        float m2 = m0;
        float m3 = m0;
        int i = 1;
        for (; i + 4 <= n; i += 4) {
            int p = offset + i;
            m0 = Math.max(m0, a[p]);
            m1 = Math.max(m1, a[p + 1]);
            m2 = Math.max(m2, a[p + 2]);
            m3 = Math.max(m3, a[p + 3]);
        }
        for (; i < n; i++) {
            m0 = Math.max(m0, a[offset + i]);
        }
        return Math.max(Math.max(m0, m1), Math.max(m2, m3));
    }
}
