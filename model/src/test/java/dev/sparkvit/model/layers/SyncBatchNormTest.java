package dev.sparkvit.model.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.StepContext;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.testing.TestTensors;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * SyncBatchNorm: outside a step and in evaluation the plain BatchNorm's bits; synchronised, T tasks (threads meeting
 * at an in-process all-gather, as a barrier stage's tasks do) give the outputs, input gradients and summed parameter
 * gradients of one plain BatchNorm on the whole batch. The barrier-stage version of this is
 * {@code engine.DataParallelStepTest} (SimCLR's head, local[2] and local[4]).
 */
class SyncBatchNormTest {
    private static final int DIM = 6;

    @Test
    void outsideAStepItIsThePlainBatchNormBitForBit() {
        Tensor<Float> x = TestTensors.randn(new Random(1), 2.0, 9, DIM);
        x.add(4f);
        Tensor<Float> dy = TestTensors.randn(new Random(2), 1.0, 9, DIM);
        float[][] plain = run(new BatchNorm(DIM), x, dy, 3);
        float[][] sync = run(new SyncBatchNorm(DIM), x, dy, 3);
        for (int i = 0; i < plain.length; i++) {
            assertArrayEquals(plain[i], sync[i], 0f, "output, input gradient, weight and bias gradients: " + i);
        }
    }

    @Test
    void inEvaluationItIgnoresTheStep() {
        Tensor<Float> x = TestTensors.randn(new Random(3), 1.0, 5, DIM);
        SyncBatchNorm sync = new SyncBatchNorm(DIM);
        sync.evaluate();
        BatchNorm plain = new BatchNorm(DIM);
        plain.evaluate();
        StepContext.Gather refuse = mine -> {
            throw new AssertionError("evaluation must not gather");
        };
        float[] y = new StepContext(refuse, null).run(() -> Tensors.toArray(sync.forward(x)));
        assertArrayEquals(Tensors.toArray(plain.forward(x)), y, 0f);
    }

    @Test
    void tasksOfOneRowAndMoreEqualOneBatchNormOnTheWholeBatch() throws Exception {
        check(new int[] {4, 4});
        check(new int[] {1, 5, 2});
        check(new int[] {3, 1, 2, 6});
    }

    @Test
    void aGlobalBatchOfOneRowIsRefused() {
        SyncBatchNorm bn = new SyncBatchNorm(DIM);
        bn.training();
        StepContext alone = new StepContext(mine -> new double[][] {mine}, null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> alone.run(() -> bn.updateOutput(Tensors.zeros(1, DIM))));
        assertTrue(e.getMessage().contains("batch of 1 row"), e.getMessage());
    }

    /** Splits a batch of the split's sum over threads, one per part, and compares with one plain BatchNorm. */
    private static void check(int[] split) throws Exception {
        int rows = Arrays.stream(split).sum();
        Random random = new Random(rows * 31L + split.length);
        Tensor<Float> x = TestTensors.randn(random, 1.5, rows, DIM);
        x.add(10f); // a mean well above the spread, as projection-head features have
        Tensor<Float> dy = TestTensors.randn(random, 1.0, rows, DIM);
        BatchNorm whole = new BatchNorm(DIM);
        TestTensors.randomizeParameters(whole, new Random(5), 1.0, 0.3);
        float[][] expected = run(whole, x, dy, 0);

        int tasks = split.length;
        InProcessGather gather = new InProcessGather(tasks);
        ExecutorService pool = Executors.newFixedThreadPool(tasks);
        try {
            @SuppressWarnings("unchecked")
            Future<float[][]>[] futures = new Future[tasks];
            int first = 0;
            for (int t = 0; t < tasks; t++) {
                int task = t;
                Tensor<Float> xs = x.narrow(1, first + 1, split[t]).clone();
                Tensor<Float> dys = dy.narrow(1, first + 1, split[t]).clone();
                first += split[t];
                futures[t] = pool.submit(() -> {
                    SyncBatchNorm bn = new SyncBatchNorm(DIM);
                    TestTensors.randomizeParameters(bn, new Random(5), 1.0, 0.3);
                    StepContext context = new StepContext(mine -> gather.doubles(task, mine), null);
                    return context.run(() -> run(bn, xs, dys, 0));
                });
            }
            float[] output = new float[0];
            float[] inputGradient = new float[0];
            double[] weightGradient = new double[DIM];
            double[] biasGradient = new double[DIM];
            for (Future<float[][]> future : futures) {
                float[][] part = future.get(60, TimeUnit.SECONDS);
                output = concat(output, part[0]);
                inputGradient = concat(inputGradient, part[1]);
                for (int c = 0; c < DIM; c++) {
                    weightGradient[c] += part[2][c];
                    biasGradient[c] += part[3][c];
                }
            }
            String where = "split " + Arrays.toString(split);
            assertClose(expected[0], output, where + " output");
            assertClose(expected[1], inputGradient, where + " input gradient");
            assertClose(expected[2], toFloat(weightGradient), where + " weight gradient (tasks summed)");
            assertClose(expected[3], toFloat(biasGradient), where + " bias gradient (tasks summed)");
        } finally {
            pool.shutdownNow();
        }
    }

    /** Forward and backward in training: output, input gradient, weight gradient, bias gradient. */
    private static float[][] run(BatchNorm bn, Tensor<Float> x, Tensor<Float> dy, long seed) {
        if (seed != 0) {
            TestTensors.randomizeParameters(bn, new Random(seed), 1.0, 0.3);
        }
        bn.training();
        bn.zeroGradParameters();
        float[] y = Tensors.toArray(bn.forward(x));
        float[] dx = Tensors.toArray(bn.backward(x, dy));
        return new float[][] {y, dx, Tensors.toArray(bn.parameters()._2()[0]), Tensors.toArray(bn.parameters()._2()[1])};
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            diff += ((double) expected[i] - actual[i]) * ((double) expected[i] - actual[i]);
            norm += (double) expected[i] * expected[i];
        }
        assertTrue(norm > 0, what + " is zero: the comparison would be vacuous");
        assertTrue(Math.sqrt(diff) <= 1e-6 * Math.sqrt(norm), what + " off by relative " + Math.sqrt(diff / norm));
    }

    private static float[] concat(float[] a, float[] b) {
        float[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static float[] toFloat(double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            f[i] = (float) values[i];
        }
        return f;
    }

    /** An all-gather between threads: each call leaves its array, waits for all, copies them in task order. */
    private static final class InProcessGather {
        private final double[][] slots;
        private final CyclicBarrier barrier;

        InProcessGather(int tasks) {
            this.slots = new double[tasks][];
            this.barrier = new CyclicBarrier(tasks);
        }

        double[][] doubles(int task, double[] mine) {
            try {
                slots[task] = mine.clone();
                barrier.await(30, TimeUnit.SECONDS);
                double[][] all = new double[slots.length][];
                for (int t = 0; t < slots.length; t++) {
                    all[t] = slots[t].clone();
                }
                barrier.await(30, TimeUnit.SECONDS); // nobody writes the next call's array before all have copied
                return all;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
