package dev.sparkvit.model.losses;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatCriterion;
import dev.sparkvit.engine.Tensors;
import java.util.Arrays;

/**
 * NT-Xent, SimCLR's normalised temperature-scaled cross-entropy (Chen et al. 2020), also known as InfoNCE. The input
 * holds 2N projections: rows 0..N-1 are the first views, rows N..2N-1 the second views of the same N images, so row
 * i's positive is row (i + N) mod 2N and its negatives are the other 2N - 2 rows. With z the L2-normalised rows and
 * s_ij = z_i . z_j / temperature,
 * <pre>
 *   loss = mean_i [ -s_{i,pos(i)} + log sum_{j != i} exp(s_ij) ]
 * </pre>
 * (The training guide's snippet uses {@code labels = arange(2N)} without masking the diagonal, which makes each row
 * its own positive; this is SimCLR's definition.) The target is ignored. Forward and backward are computed in double
 * precision. It contrasts the rows it is given only: on a slice of n images, negatives per anchor = 2n - 2. The
 * training step's loss is {@link GlobalNtXent} over the global batch ({@link BarrierNtXent}): 2B - 2.
 */
public final class NtXentLoss extends FloatCriterion {
    private static final long serialVersionUID = 1L;
    /** The training guide's temperature (SimCLR used 0.5 on CIFAR). */
    public static final double DEFAULT_TEMPERATURE = 0.07;
    private static final double NORM_EPS = 1e-12;

    private final double temperature;

    public NtXentLoss() {
        this(DEFAULT_TEMPERATURE);
    }

    public NtXentLoss(double temperature) {
        this.temperature = checkedTemperature(temperature);
    }

    /** {@code temperature} when it is a positive finite number (also for {@link GlobalNtXent}). */
    static double checkedTemperature(double temperature) {
        if (!(temperature > 0) || !Double.isFinite(temperature)) {
            throw new IllegalArgumentException("NT-Xent temperature must be positive, got " + temperature);
        }
        return temperature;
    }

    public double temperature() {
        return temperature;
    }

    /** Negatives each anchor is contrasted with, for a slice of {@code images} images (2 x images rows). */
    public static int negativesPerAnchor(int images) {
        return 2 * images - 2;
    }

    /** Normalised rows, their norms and the softmax over j != i of each row, from one forward computation. */
    private record Forward(double[][] z, double[] norms, double[][] probabilities, double loss) {
    }

    private Forward compute(Tensor<Float> input) {
        int[] shape = Tensors.shape(input);
        if (shape.length != 2 || shape[0] < 2 || shape[0] % 2 != 0) {
            throw new IllegalArgumentException("NT-Xent expects (2N, D) projections with N >= 1, both views of image i "
                    + "at rows i and i + N; got shape " + Arrays.toString(shape));
        }
        int rows = shape[0];
        int dim = shape[1];
        float[] x = Tensors.toArray(input);
        double[][] z = new double[rows][dim];
        double[] norms = new double[rows];
        for (int i = 0; i < rows; i++) {
            double sq = 0;
            for (int d = 0; d < dim; d++) {
                sq += (double) x[i * dim + d] * x[i * dim + d];
            }
            norms[i] = Math.max(Math.sqrt(sq), NORM_EPS);
            for (int d = 0; d < dim; d++) {
                z[i][d] = x[i * dim + d] / norms[i];
            }
        }
        double[][] p = new double[rows][rows];
        double total = 0;
        for (int i = 0; i < rows; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < rows; j++) {
                if (j != i) {
                    p[i][j] = dot(z[i], z[j]) / temperature;
                    max = Math.max(max, p[i][j]);
                }
            }
            double sum = 0;
            for (int j = 0; j < rows; j++) {
                if (j != i) {
                    sum += Math.exp(p[i][j] - max);
                }
            }
            double logSum = max + Math.log(sum);
            int positive = (i + rows / 2) % rows;
            total += logSum - p[i][positive];
            for (int j = 0; j < rows; j++) {
                p[i][j] = j == i ? 0 : Math.exp(p[i][j] - logSum);
            }
        }
        return new Forward(z, norms, p, total / rows);
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int d = 0; d < a.length; d++) {
            s += a[d] * b[d];
        }
        return s;
    }

    @Override
    protected float loss(Tensor<Float> input, Tensor<Float> target) {
        return (float) compute(input).loss();
    }

    @Override
    protected void gradient(Tensor<Float> input, Tensor<Float> target, Tensor<Float> gradInput) {
        Forward f = compute(input);
        int rows = f.z().length;
        int dim = f.z()[0].length;
        // G_ij = dL/ds_ij = (P_ij - [j = pos(i)]) / 2N ; dL/dz_i = (1/t) sum_j (G_ij + G_ji) z_j
        double[][] g = new double[rows][rows];
        for (int i = 0; i < rows; i++) {
            int positive = (i + rows / 2) % rows;
            for (int j = 0; j < rows; j++) {
                g[i][j] = (f.probabilities()[i][j] - (j == positive ? 1 : 0)) / rows;
            }
            g[i][i] = 0;
        }
        float[] out = new float[rows * dim];
        double[] dz = new double[dim];
        for (int i = 0; i < rows; i++) {
            Arrays.fill(dz, 0);
            for (int j = 0; j < rows; j++) {
                double w = (g[i][j] + g[j][i]) / temperature;
                if (w != 0) {
                    for (int d = 0; d < dim; d++) {
                        dz[d] += w * f.z()[j][d];
                    }
                }
            }
            // through the normalisation: dx = (dz - z (z . dz)) / |x|
            double[] zi = f.z()[i];
            double proj = dot(zi, dz);
            for (int d = 0; d < dim; d++) {
                out[i * dim + d] = (float) ((dz[d] - zi[d] * proj) / f.norms()[i]);
            }
        }
        System.arraycopy(out, 0, Tensors.data(gradInput), Tensors.offset(gradInput), out.length);
    }

    @Override
    public String toString() {
        return "NtXentLoss(temperature=" + temperature + ")";
    }
}
