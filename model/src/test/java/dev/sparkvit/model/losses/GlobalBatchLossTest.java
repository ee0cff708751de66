package dev.sparkvit.model.losses;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.BarrierStage;
import dev.sparkvit.engine.DataParallelStep;
import dev.sparkvit.engine.FloatCriterion;
import dev.sparkvit.engine.FloatTypes;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.testing.SharedSpark;
import dev.sparkvit.testing.TestTensors;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every criterion fine-tuning builds, as the barrier engine computes it ({@link DataParallelStep#meanOverGlobalBatch}
 * in a real barrier stage of 2 tasks on local[2], uneven slices of 3 and 7 rows), equals the criterion on the whole
 * batch: the loss within relative 1e-6 and the gradient with respect to every logit, concatenated over the tasks,
 * within relative 1e-6 in L2 norm. Cross-entropy with label smoothing and balanced class weights, focal loss with
 * alpha, the combined loss, each on hard labels and on mixup / cutmix soft targets. They are exact because each is
 * {@code (1/N) sum_n f(z_n, t_n)}: the class-weighted cross-entropy divides by N, as torch's does for probability
 * targets, not by the batch's total weight. A criterion that does divide by the total weight is not a plain mean, and
 * the same check fails on it ({@link #aMeanOverTheBatchsTotalWeightFailsTheCheck}).
 */
@ExtendWith(SharedSpark.class)
class GlobalBatchLossTest {
    private static final int CLASSES = 4;
    private static final int[] SPLIT = {3, 7};
    private static final double RELATIVE = 1e-6;
    private static final float[] WEIGHTS = {0.5f, 2.0f, 1.0f, 3.0f};
    private static final float[] ALPHA = {0.1f, 0.4f, 0.2f, 0.3f};

    /** One task's rows: logits and targets (hard: 1-based labels; soft: rows of class probabilities). */
    record Slice(float[] logits, float[] targets, boolean soft) implements Serializable {
    }

    /** What a task returns: the global loss and its gradient with respect to its own logits. */
    record Outcome(int task, double loss, float[] gradient) implements Serializable {
    }

    static FloatCriterion criterion(String name) {
        return switch (name) {
            case "ce" -> new CrossEntropyLoss(0.1, null);
            case "ce_weighted" -> new CrossEntropyLoss(0.1, WEIGHTS);
            case "focal" -> new FocalLoss(2.0, ALPHA);
            case "combined" -> WeightedSumLoss.focalPlusSmoothedCrossEntropy(2.0, ALPHA, 0.1, WEIGHTS);
            case "weight_normalised" -> new WeightNormalisedCrossEntropy(WEIGHTS);
            default -> throw new IllegalArgumentException(name);
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"ce", "ce_weighted", "focal", "combined"})
    void eachFinetuningCriterionOnTheGlobalBatchIsOneReplicasOnHardAndSoftTargets(String name) {
        for (boolean soft : new boolean[] {false, true}) {
            String line = check(name, soft, 31 + name.length() + (soft ? 1 : 0));
            System.out.println("GlobalBatchLossTest: " + line);
        }
    }

    @Test
    void aMeanOverTheBatchsTotalWeightFailsTheCheck() {
        AssertionError off = assertThrows(AssertionError.class, () -> check("weight_normalised", false, 5));
        System.out.println("GlobalBatchLossTest: control: " + off.getMessage());
        assertTrue(off.getMessage().contains("off by relative"), off.getMessage());
    }

    /** The check of one criterion; throws AssertionError when the barrier loss or gradient is not the whole batch's. */
    private static String check(String name, boolean soft, long seed) {
        Random random = new Random(seed);
        int batch = Arrays.stream(SPLIT).sum();
        float[] logits = new float[batch * CLASSES];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (2 * random.nextGaussian());
        }
        float[] targets = soft ? new float[batch * CLASSES] : new float[batch];
        for (int n = 0; n < batch; n++) {
            if (soft) { // a mixup of two labels, as TrainingSamples makes them
                float lambda = random.nextFloat();
                targets[n * CLASSES + random.nextInt(CLASSES)] += lambda;
                targets[n * CLASSES + random.nextInt(CLASSES)] += 1 - lambda;
            } else {
                targets[n] = 1 + random.nextInt(CLASSES);
            }
        }
        List<Slice> slices = new ArrayList<>();
        int first = 0;
        int perRow = soft ? CLASSES : 1;
        for (int rows : SPLIT) {
            slices.add(new Slice(Arrays.copyOfRange(logits, first * CLASSES, (first + rows) * CLASSES),
                    Arrays.copyOfRange(targets, first * perRow, (first + rows) * perRow), soft));
            first += rows;
        }
        FloatCriterion criterion = criterion(name);
        List<Outcome> outcomes = BarrierStage.collect(SharedSpark.context().parallelize(slices, SPLIT.length),
                partition -> {
                    Slice mine = partition.next();
                    int rows = mine.logits().length / CLASSES;
                    Tensor<Float> output = Tensors.of(mine.logits(), rows, CLASSES);
                    Tensor<Float> target = mine.soft() ? Tensors.of(mine.targets(), rows, CLASSES)
                            : Tensors.of(mine.targets(), rows);
                    DataParallelStep.Outcome outcome = DataParallelStep.meanOverGlobalBatch(criterion)
                            .apply(output, target, dev.sparkvit.engine.BarrierAllGather.current());
                    return new Outcome(org.apache.spark.TaskContext.getPartitionId(), outcome.loss(),
                            Tensors.toArray(outcome.outputGradient()));
                }, Outcome.class);

        FloatCriterion whole = criterion(name);
        Tensor<Float> output = Tensors.of(logits.clone(), batch, CLASSES);
        Tensor<Float> target = soft ? Tensors.of(targets.clone(), batch, CLASSES) : Tensors.of(targets.clone(), batch);
        double expectedLoss = whole.forward(output, target);
        float[] expectedGradient = Tensors.toArray(whole.backward(output, target).toTensor(FloatTypes.NUMERIC));

        float[] gradient = new float[batch * CLASSES];
        int at = 0;
        for (int t = 0; t < outcomes.size(); t++) {
            Outcome o = outcomes.get(t);
            assertEquals(t, o.task(), "results in partition order");
            assertEquals(Double.doubleToRawLongBits(outcomes.get(0).loss()), Double.doubleToRawLongBits(o.loss()),
                    "every task reports the same loss bits");
            System.arraycopy(o.gradient(), 0, gradient, at, o.gradient().length);
            at += o.gradient().length;
        }
        assertEquals(gradient.length, at, "the slices cover the batch");
        String where = name + (soft ? " (soft targets)" : " (hard labels)") + " split " + Arrays.toString(SPLIT);
        double lossError = Math.abs(outcomes.get(0).loss() - expectedLoss) / Math.abs(expectedLoss);
        double gradientError = TestTensors.relativeL2(gradient, expectedGradient);
        assertTrue(lossError <= RELATIVE && gradientError <= RELATIVE, where + ": loss " + outcomes.get(0).loss()
                + " (whole batch " + expectedLoss + "), off by relative " + lossError + "; gradient off by relative "
                + gradientError);
        return String.format(Locale.ROOT, "%s: loss %.6f = whole batch %.6f (relative %.1e), gradient relative L2 "
                + "%.1e", where, outcomes.get(0).loss(), expectedLoss, lossError, gradientError);
    }

    /**
     * The control: torch's class-weighted cross-entropy on hard labels, {@code sum_n w_{y_n} ce_n / sum_n w_{y_n}},
     * which divides by the batch's total weight rather than N (no criterion of the product does).
     */
    static final class WeightNormalisedCrossEntropy extends FloatCriterion {
        private static final long serialVersionUID = 1L;
        private final float[] weights;

        WeightNormalisedCrossEntropy(float[] weights) {
            this.weights = weights.clone();
        }

        @Override
        protected float loss(Tensor<Float> input, Tensor<Float> target) {
            int n = input.size(1);
            int c = input.size(2);
            double[] logP = SoftTargets.logSoftmax(Tensors.toArray(input), n, c);
            double sum = 0;
            double total = 0;
            for (int i = 0; i < n; i++) {
                int y = (int) (float) target.valueAt(i + 1) - 1;
                sum -= weights[y] * logP[i * c + y];
                total += weights[y];
            }
            return (float) (sum / total);
        }

        @Override
        protected void gradient(Tensor<Float> input, Tensor<Float> target, Tensor<Float> gradInput) {
            int n = input.size(1);
            int c = input.size(2);
            double[] logP = SoftTargets.logSoftmax(Tensors.toArray(input), n, c);
            double total = 0;
            for (int i = 0; i < n; i++) {
                total += weights[(int) (float) target.valueAt(i + 1) - 1];
            }
            float[] g = new float[n * c];
            for (int i = 0; i < n; i++) {
                int y = (int) (float) target.valueAt(i + 1) - 1;
                for (int k = 0; k < c; k++) {
                    g[i * c + k] = (float) (weights[y] * (Math.exp(logP[i * c + k]) - (k == y ? 1 : 0)) / total);
                }
            }
            gradInput.copy(Tensors.of(g, n, c));
        }
    }
}
