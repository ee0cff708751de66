package dev.sparkvit.model.losses;

import dev.sparkvit.engine.Blas;

/**
 * {@link NtXentLoss} over a global batch spread across tasks: every task holds the projections of all 2B rows
 * (gathered in the {@link GlobalBatchLayout} order), computes the loss of the whole batch, and the exact gradient of
 * that loss with respect to its own rows only. With z the L2-normalised rows and s_ij = z_i . z_j / temperature,
 * <pre>
 *   loss = 1/2B sum_k [ logsumexp_{j != k} s_kj - s_{k,pos(k)} ]
 *   dloss/dz_k = sum_{j != k} H_kj z_j,  H_kj = ( exp(s_kj - lse_k) + exp(s_kj - lse_j) - 2 [j = pos(k)] ) / (2B t)
 * </pre>
 * The first exponential is row k's softmax (k's own term), the second row j's softmax at column k (k as one of j's
 * negatives or as its positive): the gradient for row k needs {@code lse_j} of every row j, hence of every row's
 * similarities. Two ways to get them, both exact:
 * <ul>
 * <li>{@link Batch#rowTerms()}: one JVM computes every row's terms, the full 2B x 2B similarity (T = 1, tests);</li>
 * <li>{@link Batch#rowTerms(int)} per task over its own 2 n_t rows (2 n_t x 2B similarities, 1/T of the work), then
 * the tasks exchange the 16 bytes per row of {@link NtXentRowTerms} (a second, tiny all-gather). Cheaper for T &gt;= 2:
 * at B = 4,096 and D = 128 the full similarity is 17 GFLOP and 67 M exponentials per task per iteration.</li>
 * </ul>
 * Then {@link Batch#result(int, NtXentRowTerms)} gives the loss (the same number on every task: the same sum in the
 * same order) and the task's rows' gradient, in the task's own row layout.
 *
 * <p>Numerics: the dot products z_k z^T and the product H z go through the GEMM backend ({@link Blas#gemm}, single
 * precision), in blocks of whole rows (at most 16 MB of similarities at a time); dot products stay in [-1, 1], where
 * floats are 1/t times finer than similarities would be. Norms, the positive similarities, logsumexps, the loss and
 * the backward through the normalisation run in double; exponentials in MKL's {@code vsExp}, of arguments that are
 * never positive (each row shifted by its maximum, or by a logsumexp that bounds it; the diagonal excluded). Against
 * {@link NtXentLoss} (all in double) the gradients agree within 1.1e-6 of their largest element in the tests.
 * Cost at B = 4,096, D = 128 (MKL, on the 2-core development machine): 0.36 s for the whole batch in one JVM,
 * 0.09 s for one task of four.
 */
public final class GlobalNtXent {
    private static final double NORM_EPS = 1e-12;
    /** Floats in one block of similarities (16 MB); blocks hold whole rows of 2B columns. */
    private static final int BLOCK_ELEMENTS = 1 << 22;

    private final double temperature;

    public GlobalNtXent() {
        this(NtXentLoss.DEFAULT_TEMPERATURE);
    }

    public GlobalNtXent(double temperature) {
        this.temperature = NtXentLoss.checkedTemperature(temperature);
    }

    public double temperature() {
        return temperature;
    }

    /** The loss of the whole batch and the gradient of it with respect to one task's 2 n_t x D rows. */
    public record Result(double loss, float[] gradient) {
    }

    /**
     * The gathered projections of one global batch, normalised once.
     *
     * @param gathered 2B x D row-major, every task's rows in task order (read, not copied: do not change it while
     *        the batch is in use)
     */
    public Batch batch(float[] gathered, int dim, GlobalBatchLayout layout) {
        return new Batch(gathered, dim, layout);
    }

    /** Both steps in one JVM: the loss and task {@code task}'s gradient from the full similarity matrix. */
    public Result compute(float[] gathered, int dim, GlobalBatchLayout layout, int task) {
        Batch batch = batch(gathered, dim, layout);
        return batch.result(task, batch.rowTerms());
    }

    /** One global batch: the gathered rows, their norms and their normalised copies (the GEMM operand). */
    public final class Batch {
        private final float[] x;
        private final int dim;
        private final GlobalBatchLayout layout;
        private final int rows;
        private final double[] norms;
        private final float[] z;

        private Batch(float[] gathered, int dim, GlobalBatchLayout layout) {
            if (dim < 1 || gathered.length != (long) layout.rows() * dim) {
                throw new IllegalArgumentException("global NT-Xent expects " + layout.rows() + " x " + dim
                        + " gathered projections for " + layout + "; got " + gathered.length + " numbers");
            }
            this.x = gathered;
            this.dim = dim;
            this.layout = layout;
            this.rows = layout.rows();
            this.norms = new double[rows];
            this.z = new float[rows * dim];
            for (int i = 0; i < rows; i++) {
                double sq = 0;
                for (int d = 0; d < dim; d++) {
                    double v = x[i * dim + d];
                    sq += v * v;
                }
                norms[i] = Math.max(Math.sqrt(sq), NORM_EPS);
                for (int d = 0; d < dim; d++) {
                    z[i * dim + d] = (float) (x[i * dim + d] / norms[i]);
                }
            }
        }

        public GlobalBatchLayout layout() {
            return layout;
        }

        /** Every row's terms: the full 2B x 2B similarity. */
        public NtXentRowTerms rowTerms() {
            return rowTerms(0, rows);
        }

        /** Task {@code task}'s rows' terms: 2 n_t x 2B similarities. */
        public NtXentRowTerms rowTerms(int task) {
            return rowTerms(layout.firstRow(task), layout.rowCount(task));
        }

        private NtXentRowTerms rowTerms(int first, int count) {
            double[] logSumExp = new double[count];
            double[] positive = new double[count];
            int block = blockRows(count);
            float[] s = new float[block * rows];
            int[] positives = positives();
            float inverse = (float) (1 / temperature);
            for (int start = 0; start < count; start += block) {
                int m = Math.min(block, count - start);
                dots(first + start, m, s);
                for (int i = 0; i < m; i++) {
                    int k = first + start + i;
                    int off = i * rows;
                    positive[start + i] = s[off + positives[k]] / temperature;
                    s[off + k] = Float.NEGATIVE_INFINITY; // exp gives 0: no diagonal term
                    float max = max(s, off, rows);
                    for (int j = off; j < off + rows; j++) {
                        s[j] = (s[j] - max) * inverse;
                    }
                    logSumExp[start + i] = max / temperature; // the shift; the log of the sum is added below
                }
                Blas.exp(m * rows, s, 0, s, 0);
                for (int i = 0; i < m; i++) {
                    logSumExp[start + i] += Math.log(sum(s, i * rows, rows));
                }
            }
            return new NtXentRowTerms(logSumExp, positive);
        }

        /**
         * The loss of the whole batch and task {@code task}'s gradient (2 n_t x D, the task's own row layout).
         *
         * @param all every row's terms in gathered order ({@link #rowTerms()}, or every task's
         *        {@link #rowTerms(int)} concatenated in task order)
         */
        public Result result(int task, NtXentRowTerms all) {
            if (all.rows() != rows) {
                throw new IllegalArgumentException("row terms of " + all.rows() + " rows for a batch of " + rows);
            }
            double total = 0;
            for (int k = 0; k < rows; k++) {
                total += all.term(k);
            }
            return new Result(total / rows, gradient(layout.firstRow(task), layout.rowCount(task),
                    all.logSumExp()));
        }

        private float[] gradient(int first, int count, double[] logSumExp) {
            // each logsumexp in dot-product units (lse t, at most 1 in size) as a float pair hi + lo: the arguments
            // (dot - lse t) / t then keep nearly double's accuracy in float arithmetic, which HotSpot vectorises
            float[] lseHi = new float[rows];
            float[] lseLo = new float[rows];
            for (int j = 0; j < rows; j++) {
                double units = logSumExp[j] * temperature;
                lseHi[j] = (float) units;
                lseLo[j] = (float) (units - lseHi[j]);
            }
            float inverse = (float) (1 / temperature);
            float[] out = new float[count * dim];
            int block = blockRows(count);
            float[] h = new float[block * rows];
            // one row at index 0 (HotSpot vectorises a loop only when its arrays share one index expression)
            float[] row = new float[rows];
            float[] own = new float[rows];
            float[] other = new float[rows];
            float[] dz = new float[block * dim];
            int[] positives = positives();
            float scale = (float) (1.0 / (rows * temperature));
            for (int start = 0; start < count; start += block) {
                int m = Math.min(block, count - start);
                dots(first + start, m, h);
                for (int i = 0; i < m; i++) {
                    int k = first + start + i;
                    System.arraycopy(h, i * rows, row, 0, rows);
                    float hi = lseHi[k];
                    float lo = lseLo[k];
                    for (int j = 0; j < rows; j++) {
                        own[j] = ((row[j] - hi) - lo) * inverse; // log of row k's softmax at j
                        other[j] = ((row[j] - lseHi[j]) - lseLo[j]) * inverse; // log of row j's softmax at k
                    }
                    own[k] = Float.NEGATIVE_INFINITY; // no diagonal term (and s_kk - lse may be positive)
                    other[k] = Float.NEGATIVE_INFINITY;
                    Blas.exp(rows, own, 0, own, 0);
                    Blas.exp(rows, other, 0, other, 0);
                    for (int j = 0; j < rows; j++) {
                        own[j] = (own[j] + other[j]) * scale;
                    }
                    own[positives[k]] -= 2 * scale;
                    System.arraycopy(own, 0, h, i * rows, rows);
                }
                Blas.gemm(false, false, m, dim, rows, 1f, h, 0, rows, z, 0, dim, 0f, dz, 0, dim);
                for (int i = 0; i < m; i++) {
                    normalisationBackward(first + start + i, dz, i * dim, out, (start + i) * dim);
                }
            }
            return out;
        }

        /** dx = (dz - z (z . dz)) / |x|, with z recomputed in double from x. */
        private void normalisationBackward(int row, float[] dz, int dzOffset, float[] out, int outOffset) {
            double norm = norms[row];
            double proj = 0;
            for (int d = 0; d < dim; d++) {
                proj += x[row * dim + d] / norm * dz[dzOffset + d];
            }
            for (int d = 0; d < dim; d++) {
                out[outOffset + d] = (float) ((dz[dzOffset + d] - x[row * dim + d] / norm * proj) / norm);
            }
        }

        /**
         * {@code c[0 .. m x 2B) = z[first .. first + m) z^T}: m rows' dot products with every row (the similarities
         * times t; kept in [-1, 1], where a float is 14 times finer than at 1/t for the guide's t = 0.07).
         */
        private void dots(int first, int m, float[] c) {
            Blas.gemm(false, true, m, rows, dim, 1f, z, first * dim, dim, z, 0, dim, 0f, c, 0, rows);
        }

        private int[] positives() {
            int[] positives = new int[rows];
            for (int t = 0; t < layout.tasks(); t++) {
                int first = layout.firstRow(t);
                int n = layout.images(t);
                for (int r = 0; r < 2 * n; r++) {
                    positives[first + r] = first + (r + n) % (2 * n);
                }
            }
            return positives;
        }

        private int blockRows(int count) {
            return Math.max(1, Math.min(count, BLOCK_ELEMENTS / rows));
        }
    }

    /** The sum in double, over four partial sums (one dependency chain would wait on each addition). */
    private static double sum(float[] a, int offset, int length) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int j = offset;
        for (int end = offset + length - 3; j < end; j += 4) {
            s0 += a[j];
            s1 += a[j + 1];
            s2 += a[j + 2];
            s3 += a[j + 3];
        }
        for (; j < offset + length; j++) {
            s0 += a[j];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** The largest of {@code a[offset .. offset + length)}, over four partial maxima. */
    private static float max(float[] a, int offset, int length) {
        float m0 = Float.NEGATIVE_INFINITY;
        float m1 = Float.NEGATIVE_INFINITY;
        float m2 = Float.NEGATIVE_INFINITY;
        float m3 = Float.NEGATIVE_INFINITY;
        int j = offset;
        for (int end = offset + length - 3; j < end; j += 4) {
            m0 = Math.max(m0, a[j]);
            m1 = Math.max(m1, a[j + 1]);
            m2 = Math.max(m2, a[j + 2]);
            m3 = Math.max(m3, a[j + 3]);
        }
        for (; j < offset + length; j++) {
            m0 = Math.max(m0, a[j]);
        }
        return Math.max(Math.max(m0, m1), Math.max(m2, m3));
    }

    @Override
    public String toString() {
        return "GlobalNtXent(temperature=" + temperature + ")";
    }
}
