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
 * same order) and the task's rows' gradient, in the task's own row layout. Similarities and the gradient product go
 * through the GEMM backend ({@link Blas#gemm}, single precision) in blocks of own rows; normalisation, maxima, sums,
 * logarithms and the backward through the normalisation run in double; exponentials in MKL's {@code vsExp} of
 * arguments that are never positive (each row shifted by its maximum, or by a logsumexp that bounds it).
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
        if (!(temperature > 0) || !Double.isFinite(temperature)) {
            throw new IllegalArgumentException("NT-Xent temperature must be positive, got " + temperature);
        }
        this.temperature = temperature;
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
            float[] c = new float[block * rows];
            int[] positives = positives();
            for (int start = 0; start < count; start += block) {
                int m = Math.min(block, count - start);
                similarityDots(first + start, m, c);
                for (int i = 0; i < m; i++) {
                    int k = first + start + i;
                    int off = i * rows;
                    positive[start + i] = c[off + positives[k]] / temperature;
                    c[off + k] = Float.NEGATIVE_INFINITY;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = off; j < off + rows; j++) {
                        max = Math.max(max, c[j]);
                    }
                    logSumExp[start + i] = max / temperature; // the shift; the log of the sum is added below
                    for (int j = off; j < off + rows; j++) {
                        c[j] = (float) ((c[j] - (double) max) / temperature); // -inf at k: exp gives 0
                    }
                }
                Blas.exp(m * rows, c, 0, c, 0);
                for (int i = 0; i < m; i++) {
                    int k = first + start + i;
                    int off = i * rows;
                    c[off + k] = 0f;
                    logSumExp[start + i] += Math.log(sum(c, off, rows));
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
            float[] out = new float[count * dim];
            int block = blockRows(count);
            float[] own = new float[block * rows];
            float[] other = new float[block * rows];
            float[] dz = new float[block * dim];
            int[] positives = positives();
            double scale = 1.0 / (rows * temperature);
            for (int start = 0; start < count; start += block) {
                int m = Math.min(block, count - start);
                similarityDots(first + start, m, own);
                for (int i = 0; i < m; i++) {
                    double lse = logSumExp[first + start + i];
                    int off = i * rows;
                    for (int j = 0; j < rows; j++) {
                        double s = own[off + j] / temperature;
                        own[off + j] = (float) (s - lse); // row k's softmax at j, as a log
                        other[off + j] = (float) (s - logSumExp[j]); // row j's softmax at k, as a log
                    }
                    int k = first + start + i;
                    own[off + k] = Float.NEGATIVE_INFINITY; // no diagonal term (and s_kk - lse may be positive)
                    other[off + k] = Float.NEGATIVE_INFINITY;
                }
                Blas.exp(m * rows, own, 0, own, 0);
                Blas.exp(m * rows, other, 0, other, 0);
                for (int i = 0; i < m; i++) {
                    int k = first + start + i;
                    int off = i * rows;
                    for (int j = off; j < off + rows; j++) {
                        own[j] = (float) ((own[j] + (double) other[j]) * scale);
                    }
                    own[off + positives[k]] -= (float) (2 * scale);
                }
                Blas.gemm(false, false, m, dim, rows, 1f, own, 0, rows, z, 0, dim, 0f, dz, 0, dim);
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

        /** {@code c[0 .. m x 2B) = z[first .. first + m) z^T}: the dot products of m rows with every row. */
        private void similarityDots(int first, int m, float[] c) {
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

    private static double sum(float[] a, int offset, int length) {
        double s = 0;
        for (int j = offset; j < offset + length; j++) {
            s += a[j];
        }
        return s;
    }

    @Override
    public String toString() {
        return "GlobalNtXent(temperature=" + temperature + ")";
    }
}
