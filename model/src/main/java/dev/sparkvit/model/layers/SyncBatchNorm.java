package dev.sparkvit.model.layers;

import dev.sparkvit.engine.StepContext;

/**
 * {@link BatchNorm} whose statistics span the <em>global</em> batch of a data-parallel step, as
 * {@code torch.nn.SyncBatchNorm}: in training inside a barrier task's step ({@link StepContext} with an all-gather,
 * set by {@code engine.DataParallelStep}) every task's replica
 * <ul>
 *   <li>in forward, gathers each task's per-channel row count, mean and sum of squared deviations (one all-gather of
 *       {@code 2 dim + 1} doubles) and combines them in task order (Chan et al.'s pairwise update: no cancellation
 *       of a large mean) into the global batch's mean and biased variance, the same bits on every task;</li>
 *   <li>in backward, gathers the per-channel {@code sum dy} and {@code sum dy * xhat} of its rows (one all-gather of
 *       {@code 2 dim} doubles): the input gradient of its rows is then the whole batch's, and the weight and bias
 *       gradients are its rows' part, which the step's gradient exchange sums.</li>
 * </ul>
 * So T tasks give the loss, outputs and gradients of one replica with {@link BatchNorm} on the whole batch, up to
 * summation order. The layer keeps no running statistics (as {@link BatchNorm}), so nothing besides the weights can
 * drift between tasks. Outside such a step (a replica run on its own, the driver) and in evaluation
 * it is {@link BatchNorm}, bit for bit. A task's slice may then hold a single row; the global batch needs two.
 */
public final class SyncBatchNorm extends BatchNorm {
    private static final long serialVersionUID = 1L;

    /** The step's all-gather when the last forward ran synchronised (backward must do what forward did). */
    private transient StepContext.Gather synchronisedBy;

    public SyncBatchNorm(int dim) {
        super(dim);
    }

    public SyncBatchNorm(int dim, double eps) {
        super(dim, eps);
    }

    private static StepContext.Gather stepGather() {
        StepContext context = StepContext.current();
        return context == null ? null : context.gather();
    }

    @Override
    protected int minimumRows() {
        return isTraining() && stepGather() != null ? 1 : super.minimumRows();
    }

    @Override
    protected Statistics statistics(float[] xs, int xo, int rows) {
        StepContext.Gather gather = isTraining() ? stepGather() : null;
        synchronisedBy = gather;
        Statistics local = super.statistics(xs, xo, rows);
        if (gather == null) {
            return local;
        }
        int dim = dim();
        double[] mine = new double[2 * dim + 1];
        mine[0] = rows;
        for (int c = 0; c < dim; c++) {
            mine[1 + c] = local.mean()[c];
            mine[1 + dim + c] = local.variance()[c] * rows; // the sum of squared deviations
        }
        double[][] all = gather.doubles(mine);
        double n = 0;
        double[] mean = new double[dim];
        double[] m2 = new double[dim];
        for (double[] part : all) { // task order: the same sums on every task
            double nb = part[0];
            if (nb == 0) {
                continue;
            }
            double total = n + nb;
            for (int c = 0; c < dim; c++) {
                double delta = part[1 + c] - mean[c];
                mean[c] += delta * nb / total;
                m2[c] += part[1 + dim + c] + delta * delta * n * nb / total;
            }
            n = total;
        }
        for (int c = 0; c < dim; c++) {
            m2[c] /= n;
        }
        return new Statistics(mean, m2, (long) n);
    }

    @Override
    protected double[][] gradientSums(double[] sumG, double[] sumGXhat) {
        StepContext.Gather gather = synchronisedBy;
        if (gather == null) {
            return super.gradientSums(sumG, sumGXhat);
        }
        int dim = dim();
        double[] mine = new double[2 * dim];
        System.arraycopy(sumG, 0, mine, 0, dim);
        System.arraycopy(sumGXhat, 0, mine, dim, dim);
        double[][] all = gather.doubles(mine);
        double[] totalG = new double[dim];
        double[] totalGXhat = new double[dim];
        for (double[] part : all) {
            for (int c = 0; c < dim; c++) {
                totalG[c] += part[c];
                totalGXhat[c] += part[dim + c];
            }
        }
        return new double[][] {totalG, totalGXhat};
    }

    @Override
    public String toString() {
        return "SyncBatchNorm(" + dim() + ", global batch statistics in a barrier step)";
    }
}
