package dev.sparkvit.model.losses;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link GlobalNtXent} is exact: its gradient matches finite differences of its loss, and for any split of a batch
 * across tasks the tasks' own-row gradients, put back in {@link NtXentLoss}'s layout, are the gradient of
 * {@link NtXentLoss} on the whole batch (one replica holding it), with the same loss.
 */
class GlobalNtXentTest {
    private static final Tensor<Float> NO_TARGET = Tensors.zeros(1);
    private static final double RELATIVE = 1e-5;

    /** Splits of a batch of 7 images across 1 to 4 tasks: uneven, single images, an empty task. */
    private static final int[][] SPLITS_OF_7 = {{7}, {3, 4}, {1, 5, 1}, {2, 2, 0, 3}, {1, 1, 1, 4}};

    @Test
    void finiteDifferenceGradientOfEachTasksRowsIncludingWhatOtherTasksTermsContribute() {
        for (double temperature : new double[] {0.07, 0.5}) {
            GlobalNtXent loss = new GlobalNtXent(temperature);
            GlobalBatchLayout layout = GlobalBatchLayout.of(2, 1, 3);
            int dim = 5;
            float[] x = randn(new Random(11), layout.rows() * dim);
            float[] analytic = new float[x.length];
            for (int t = 0; t < layout.tasks(); t++) {
                float[] own = loss.compute(x, dim, layout, t).gradient();
                System.arraycopy(own, 0, analytic, layout.firstRow(t) * dim, own.length);
            }
            double eps = 1e-3;
            double maxError = 0;
            double maxNumerical = 0;
            for (int i = 0; i < x.length; i++) {
                float original = x[i];
                x[i] = (float) (original + eps);
                double plus = loss.compute(x, dim, layout, 0).loss();
                x[i] = (float) (original - eps);
                double minus = loss.compute(x, dim, layout, 0).loss();
                x[i] = original;
                double numerical = (plus - minus) / (2 * eps);
                maxError = Math.max(maxError, Math.abs(numerical - analytic[i]));
                maxNumerical = Math.max(maxNumerical, Math.abs(numerical));
            }
            assertTrue(maxNumerical > 0.1, "non-vacuous: " + maxNumerical);
            assertTrue(maxError / maxNumerical < 1e-3, "temperature " + temperature + ": relative error "
                    + maxError / maxNumerical);
        }
    }

    @Test
    void everySplitAcrossOneToFourTasksGivesOneReplicasLossAndGradient() {
        for (double temperature : new double[] {0.07, 0.5}) {
            for (int[] split : SPLITS_OF_7) {
                assertMatchesOneReplica(new GlobalNtXent(temperature), split, 6, new Random(21), 1.0);
            }
        }
        // a larger batch at the projection size of the models, evenly and unevenly split
        GlobalNtXent loss = new GlobalNtXent();
        assertMatchesOneReplica(loss, new int[] {64, 64, 64, 64}, 128, new Random(22), 1.0);
        assertMatchesOneReplica(loss, new int[] {100, 37, 119}, 128, new Random(23), 1.0);
    }

    @Test
    void rowsOfAnyScaleAndNearlyAlignedPairs() {
        GlobalNtXent loss = new GlobalNtXent();
        // the normalisation's backward at norms far from 1
        assertMatchesOneReplica(loss, new int[] {4, 5}, 8, new Random(31), 1e3);
        assertMatchesOneReplica(loss, new int[] {4, 5}, 8, new Random(32), 1e-3);
        // second views close to the first: softmax mass on the positive, the regime of a trained model
        int images = 12;
        int dim = 16;
        float[] global = randn(new Random(33), 2 * images * dim);
        Random noise = new Random(34);
        for (int i = 0; i < images * dim; i++) {
            global[images * dim + i] = global[i] + 0.05f * (float) noise.nextGaussian();
        }
        assertMatchesOneReplica(loss, new int[] {5, 7}, dim, global);
    }

    @Test
    void withOneTaskTheLayoutIsNtXentLossesOwn() {
        int images = 9;
        int dim = 7;
        float[] global = randn(new Random(41), 2 * images * dim);
        NtXentLoss reference = new NtXentLoss();
        Tensor<Float> input = Tensors.of(global.clone(), 2 * images, dim);
        float[] expected = Tensors.toArray(reference.backward(input, NO_TARGET));
        GlobalNtXent.Result result = new GlobalNtXent().compute(global, dim, GlobalBatchLayout.of(images), 0);
        assertClose(expected, result.gradient(), "one task, no reordering");
        assertEquals(reference.forward(input, NO_TARGET), result.loss(), RELATIVE * result.loss());
    }

    @Test
    void theTwoStepPathWithExchangedRowTermsEqualsTheFullSimilarityPath() {
        GlobalBatchLayout layout = GlobalBatchLayout.of(3, 0, 5, 2);
        int dim = 9;
        float[] gathered = randn(new Random(51), layout.rows() * dim);
        GlobalNtXent loss = new GlobalNtXent();
        GlobalNtXent.Batch batch = loss.batch(gathered, dim, layout);
        List<NtXentRowTerms> perTask = new ArrayList<>();
        for (int t = 0; t < layout.tasks(); t++) {
            // as sent through the exchange
            perTask.add(NtXentRowTerms.fromArray(batch.rowTerms(t).toArray()));
        }
        NtXentRowTerms exchanged = NtXentRowTerms.concat(perTask);
        NtXentRowTerms full = batch.rowTerms();
        assertArrayEquals(full.logSumExp(), exchanged.logSumExp(), 1e-12);
        assertArrayEquals(full.positive(), exchanged.positive(), 1e-12);
        for (int t = 0; t < layout.tasks(); t++) {
            GlobalNtXent.Result twoStep = batch.result(t, exchanged);
            GlobalNtXent.Result oneJvm = loss.compute(gathered, dim, layout, t);
            assertEquals(oneJvm.loss(), twoStep.loss(), 1e-12);
            assertArrayEquals(oneJvm.gradient(), twoStep.gradient(), 1e-12f);
            assertEquals(layout.rowCount(t) * dim, twoStep.gradient().length);
        }
    }

    @Test
    void negativesPerAnchorAreTwoBMinusTwoWhateverTheNumberOfTasks() {
        // unit basis rows, both views of image i = e_i: s_pos = 1/t and every negative s = 0, so at temperature 1
        // loss = log(e + negatives) - 1 and the loss itself counts the negatives each row was contrasted with
        int images = 7;
        int dim = images;
        float[] global = new float[2 * images * dim];
        for (int i = 0; i < images; i++) {
            global[i * dim + i] = 1;
            global[(images + i) * dim + i] = 1;
        }
        GlobalNtXent loss = new GlobalNtXent(1.0);
        for (int[] split : SPLITS_OF_7) {
            GlobalBatchLayout layout = GlobalBatchLayout.of(split);
            float[] gathered = gather(global, dim, split);
            for (int t = 0; t < split.length; t++) {
                double negatives = Math.exp(loss.compute(gathered, dim, layout, t).loss() + 1) - Math.E;
                assertEquals(12, negatives, 1e-4, "split " + java.util.Arrays.toString(split) + ", task " + t);
            }
            assertEquals(12, layout.negativesPerAnchor());
        }
        // whereas NtXentLoss on one task's slice of 3 images contrasts with 4
        float[] slice = gather(global, dim, new int[] {3, 4});
        float[] firstTask = java.util.Arrays.copyOf(slice, 6 * dim);
        double sliceLoss = new NtXentLoss(1.0).forward(Tensors.of(firstTask, 6, dim), NO_TARGET);
        assertEquals(4, Math.exp(sliceLoss + 1) - Math.E, 1e-4);
        assertEquals(4, NtXentLoss.negativesPerAnchor(3));
    }

    @Test
    void rejectsAMatrixThatIsNotTheLayoutsAndNonPositiveTemperatures() {
        GlobalNtXent loss = new GlobalNtXent();
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> loss.batch(new float[30], 4, GlobalBatchLayout.of(2, 2)));
        assertTrue(error.getMessage().contains("8 x 4"), error.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new GlobalNtXent(0));
        assertThrows(IllegalArgumentException.class, () -> new GlobalNtXent(Double.NaN));
        GlobalNtXent.Batch batch = loss.batch(new float[32], 4, GlobalBatchLayout.of(2, 2));
        assertThrows(IllegalArgumentException.class, () -> batch.result(0, batch.rowTerms(0)));
    }

    /** Each task's result on the gathered matrix, put back in NtXentLoss's layout, equals NtXentLoss on it all. */
    private static void assertMatchesOneReplica(GlobalNtXent loss, int[] split, int dim, Random random,
            double scale) {
        int images = java.util.Arrays.stream(split).sum();
        float[] global = randn(random, 2 * images * dim);
        for (int i = 0; i < global.length; i++) {
            global[i] *= (float) scale;
        }
        assertMatchesOneReplica(loss, split, dim, global);
    }

    private static void assertMatchesOneReplica(GlobalNtXent loss, int[] split, int dim, float[] global) {
        int images = global.length / (2 * dim);
        NtXentLoss reference = new NtXentLoss(loss.temperature());
        Tensor<Float> input = Tensors.of(global.clone(), 2 * images, dim);
        float expectedLoss = reference.forward(input, NO_TARGET);
        float[] expected = Tensors.toArray(reference.backward(input, NO_TARGET));

        GlobalBatchLayout layout = GlobalBatchLayout.of(split);
        float[] gathered = gather(global, dim, split);
        float[] actual = new float[global.length];
        int first = 0;
        for (int t = 0; t < split.length; t++) {
            GlobalNtXent.Result result = loss.compute(gathered, dim, layout, t);
            String where = "split " + java.util.Arrays.toString(split) + ", task " + t;
            assertEquals(expectedLoss, result.loss(), RELATIVE * Math.abs(expectedLoss), where);
            float[] own = result.gradient();
            int n = split[t];
            // the task's rows: its images' first views, then their second views
            System.arraycopy(own, 0, actual, first * dim, n * dim);
            System.arraycopy(own, n * dim, actual, (images + first) * dim, n * dim);
            first += n;
        }
        assertClose(expected, actual, "split " + java.util.Arrays.toString(split) + " at dim " + dim);
    }

    /** Every task's rows in task order: task t's images' first views, then their second views. */
    static float[] gather(float[] global, int dim, int[] split) {
        int images = global.length / (2 * dim);
        float[] gathered = new float[global.length];
        int at = 0;
        int first = 0;
        for (int n : split) {
            System.arraycopy(global, first * dim, gathered, at, n * dim);
            at += n * dim;
            System.arraycopy(global, (images + first) * dim, gathered, at, n * dim);
            at += n * dim;
            first += n;
        }
        return gathered;
    }

    /** max |actual - expected| within {@link #RELATIVE} of max |expected|, which must not be zero. */
    static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        double maxError = 0;
        double maxExpected = 0;
        for (int i = 0; i < expected.length; i++) {
            maxError = Math.max(maxError, Math.abs((double) actual[i] - expected[i]));
            maxExpected = Math.max(maxExpected, Math.abs(expected[i]));
        }
        assertTrue(maxExpected > 0, what + ": the reference gradient is zero");
        assertTrue(maxError <= RELATIVE * maxExpected, what + ": max error " + maxError + " against max "
                + maxExpected + " (relative " + maxError / maxExpected + ")");
    }

    static float[] randn(Random random, int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
