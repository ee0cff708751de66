package dev.sparkvit.model.losses;

import dev.sparkvit.engine.BarrierAllGather;
import dev.sparkvit.engine.DataParallelStep;
import dev.sparkvit.engine.Tensors;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link GlobalNtXent} inside a barrier stage, one task per executor: each task passes its own projections (its
 * n_t images' first views, then their second views: 2 n_t x D, {@link NtXentLoss}'s layout) and gets the loss of the
 * global batch and the exact gradient for those rows. Two all-gathers: the projections (2B x D floats to every
 * task), then each row's {@link NtXentRowTerms} (16 bytes per row), so that each task computes only its own rows'
 * similarities. Every task must call it once per batch; tasks may hold different numbers of images (even none).
 */
public final class BarrierNtXent {
    private BarrierNtXent() {
    }

    /**
     * NT-Xent over the global batch as a {@link DataParallelStep}'s loss: the task's model outputs are its
     * projections (2 n_t x D: its images' first views, then their second views, so its input holds the views in that
     * order); the outcome is the global batch's loss and the exact gradient of it for those rows. The target is unused.
     */
    public static DataParallelStep.SliceLoss sliceLoss(GlobalNtXent loss) {
        return (output, target, exchange) -> {
            int rows = output.size(1);
            int dim = (int) (output.nElement() / rows);
            Computed computed = computeWithLayout(loss, exchange, Tensors.toArray(output), dim);
            // the gradient of this task's rows; the negatives are those of the gathered layout: 2B - 2
            return new DataParallelStep.Outcome(computed.result().loss(), Tensors.of(computed.result().gradient(),
                    rows, dim), computed.layout().negativesPerAnchor());
        };
    }

    /**
     * NT-Xent within each task's own rows ({@code training.negatives: replica}), as data-parallel SimCLR without a
     * gather computes it: task t's views meet only its own 2 n_t - 2 negatives. The step's loss is the mean over the
     * tasks of their losses, weighted by their images (one all-gather of two numbers), and each task's outcome
     * gradient is the gradient of that mean with respect to its rows: {@code (n_t / B) dL_t}. Kept to measure what
     * the global batch's negatives are worth (docs/PRETRAINING.md); {@link #sliceLoss} is the default.
     */
    public static DataParallelStep.SliceLoss replicaSliceLoss(GlobalNtXent loss) {
        return (output, target, exchange) -> {
            int rows = output.size(1);
            int dim = (int) (output.nElement() / rows);
            int images = rows / 2;
            GlobalNtXent.Result own = loss.compute(Tensors.toArray(output), dim, GlobalBatchLayout.of(images), 0);
            double[][] all = exchange.doubles(new double[] {own.loss() * images, images});
            double sum = 0;
            double total = 0;
            for (double[] task : all) {
                sum += task[0];
                total += task[1];
            }
            float share = (float) (images / total);
            float[] gradient = own.gradient();
            for (int i = 0; i < gradient.length; i++) {
                gradient[i] *= share;
            }
            return new DataParallelStep.Outcome(sum / total, Tensors.of(gradient, rows, dim), 2 * images - 2);
        };
    }

    /** The global loss and this task's rows' gradient. */
    public static GlobalNtXent.Result compute(GlobalNtXent loss, BarrierAllGather exchange, float[] ownRows,
            int dim) {
        return computeWithLayout(loss, exchange, ownRows, dim).result();
    }

    private record Computed(GlobalNtXent.Result result, GlobalBatchLayout layout) {
    }

    private static Computed computeWithLayout(GlobalNtXent loss, BarrierAllGather exchange, float[] ownRows,
            int dim) {
        if (dim < 1 || ownRows.length % (2 * dim) != 0) {
            throw new IllegalArgumentException("a task's projections are 2n x " + dim + " (both views of n images); "
                    + "got " + ownRows.length + " numbers");
        }
        float[][] parts = exchange.floats(ownRows);
        int[] images = new int[parts.length];
        int total = 0;
        for (int t = 0; t < parts.length; t++) {
            images[t] = parts[t].length / (2 * dim);
            total += parts[t].length;
        }
        float[] gathered = new float[total];
        int at = 0;
        for (float[] part : parts) {
            System.arraycopy(part, 0, gathered, at, part.length);
            at += part.length;
        }
        GlobalBatchLayout layout = GlobalBatchLayout.of(images);
        GlobalNtXent.Batch batch = loss.batch(gathered, dim, layout);
        int task = exchange.task();
        double[][] terms = exchange.doubles(batch.rowTerms(task).toArray());
        List<NtXentRowTerms> all = new ArrayList<>(terms.length);
        for (double[] t : terms) {
            all.add(NtXentRowTerms.fromArray(t));
        }
        return new Computed(batch.result(task, NtXentRowTerms.concat(all)), layout);
    }
}
