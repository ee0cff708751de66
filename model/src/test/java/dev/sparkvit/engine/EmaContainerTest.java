package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.nn.Linear;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.model.layers.TokenPooling;
import dev.sparkvit.model.optim.SgdMomentum;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.testing.BarrierRuns;
import dev.sparkvit.testing.RandomImages;
import dev.sparkvit.testing.SharedSpark;
import dev.sparkvit.testing.TestTensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The EMA of the barrier engine ({@link BarrierSegment.Ema}, EmaContainer's definition kept on task 0) equals the
 * closed form computed from the sequence of live weights. The live weights after k iterations come from segments of k
 * iterations from the same start, which are bit-identical prefixes of one another (a segment is a function of its
 * start). The container itself: with an interval k (gradient accumulation) the average folds in the weights on
 * training forwards {@code t % k == 0} only, and a restored average, update count and forward count continue exactly
 * as the uninterrupted container.
 */
@ExtendWith(SharedSpark.class)
class EmaContainerTest {
    private static final VitConfig CONFIG = new VitConfig(8, 4, 3, 16, 2, 2, 2.0, 0.0, true, 0.1,
            TokenPooling.Mode.CLASS_TOKEN);
    private static final float DECAY = 0.6f;
    private static final int T = 4;

    /**
     * {@code {largest difference, largest move}}: between {@code ema} and the closed form over {@code live} (the flat
     * weights after 0..T iterations: ema_0 = w_0, ema_k = d ema_{k-1} + (1 - d) w_k, in float), and between
     * {@code ema} and the initial weights.
     */
    static double[] closedFormError(List<float[]> live, float decay, float[] ema) {
        float[] expected = live.get(0).clone();
        for (int k = 1; k < live.size(); k++) {
            float[] w = live.get(k);
            for (int i = 0; i < expected.length; i++) {
                expected[i] = decay * expected[i] + (1 - decay) * w[i];
            }
        }
        return new double[] {TestTensors.maxAbsDiff(expected, ema), TestTensors.maxAbsDiff(ema, live.get(0))};
    }

    @Test
    void emaEqualsTheClosedFormOfTheLiveWeights() {
        VisionTransformer vit = VisionTransformer.classifier(CONFIG, 3, 21);
        SgdMomentum sgd = new SgdMomentum(i -> 0.1, 0.0, false);
        BarrierSegment.Ema average = new BarrierSegment.Ema(DECAY, false);
        BarrierSegment.Start start = BarrierSegment.Start.of(vit.module(), sgd, 0);
        List<float[]> live = new ArrayList<>();
        live.add(start.weights());
        BarrierSegment.Result run;
        try (BarrierSegment segment = new BarrierSegment(BarrierRuns.module(vit.module()),
                RandomImages.epochDataSet(32, 8, 3, 3, SharedSpark.CORES), 8, BarrierRuns.crossEntropy(), sgd)
                .ema(average)) {
            for (int k = 1; k <= T; k++) {
                live.add(segment.run(start, k).weights());
            }
            run = segment.run(start, T);
        }
        assertTrue(Arrays.equals(live.get(T), run.weights()), "a segment of T repeats itself bit for bit");
        float[] ema = average.folded(run.ema(), run.emaUpdates(), run.weights()); // the final fold, as the jobs do
        assertEquals(T, run.emaUpdates(), "one update per iteration, before the final one on the driver");
        double[] result = closedFormError(live, DECAY, ema);
        assertTrue(result[1] > 1e-4, "the average moved away from the initial weights: " + result[1]);
        assertTrue(result[0] < 1e-6, "EMA differs from the closed form by " + result[0]);
    }

    private static List<float[]> copies(List<Tensor<Float>> tensors) {
        List<float[]> out = new ArrayList<>();
        tensors.forEach(t -> out.add(Tensors.toArray(t)));
        return out;
    }

    /** The live weights a training forward t sees in the interval tests: distinct for every t. */
    private static float[][] liveWeights(int t) {
        float[][] w = {new float[6], new float[2]};
        for (int i = 0; i < 6; i++) {
            w[0][i] = (float) Math.sin(1 + t * 0.7 + i * 1.3);
        }
        for (int i = 0; i < 2; i++) {
            w[1][i] = (float) Math.cos(t * 1.1 + i);
        }
        return w;
    }

    private static void setWeights(Linear<Float> linear, float[][] values) {
        List<Tensor<Float>> weights = ModuleParameters.weights(linear);
        for (int i = 0; i < values.length; i++) {
            weights.get(i).copy(Tensors.of(values[i], Tensors.shape(weights.get(i))));
        }
    }

    private static Linear<Float> linear() {
        Linear<Float> linear = Layers.linear(3, 2);
        setWeights(linear, new float[][] {{0.1f, 0.2f, 0.3f, -0.4f, -0.5f, -0.6f}, {0.7f, -0.8f}});
        return linear;
    }

    /** Training forwards {@code from} until {@code to}, each on the live weights of its index. */
    private static void forwards(EmaContainer ema, Linear<Float> linear, int from, int to) {
        ema.training();
        for (int t = from; t < to; t++) {
            setWeights(linear, liveWeights(t));
            ema.forward(Tensors.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
        }
    }

    @Test
    void intervalTwoFoldsTheWeightsOnEveryOtherTrainingForward() {
        Linear<Float> linear = linear();
        float[][] initial = ModuleParameters.snapshot(linear);
        EmaContainer ema = new EmaContainer(linear, DECAY, false, 2);
        forwards(ema, linear, 0, 4);
        assertEquals(2, ema.updateCount(), "forwards 0 and 2 fold, 1 and 3 do not");
        // ema = d (d w_init + (1 - d) w_0) + (1 - d) w_2, in float as the container computes it
        float[][] w0 = liveWeights(0);
        float[][] w2 = liveWeights(2);
        for (int p = 0; p < 2; p++) {
            float[] expected = new float[initial[p].length];
            for (int i = 0; i < expected.length; i++) {
                float a = DECAY * initial[p][i] + (1 - DECAY) * w0[p][i];
                expected[i] = DECAY * a + (1 - DECAY) * w2[p][i];
            }
            assertArrayEquals(expected, Tensors.toArray(ema.averagedWeights().get(p)), 1e-7f, "tensor " + p);
        }
        // evaluation forwards neither fold nor count
        ema.evaluate();
        setWeights(linear, liveWeights(9));
        ema.forward(Tensors.of(new float[] {1, 2, 3}, 1, 3));
        assertEquals(2, ema.updateCount());
    }

    @Test
    void intervalOneFoldsOnEveryTrainingForward() {
        Linear<Float> linear = linear();
        float[][] initial = ModuleParameters.snapshot(linear);
        EmaContainer ema = new EmaContainer(linear, DECAY, false, 1);
        forwards(ema, linear, 0, 3);
        assertEquals(3, ema.updateCount());
        float[] expected = initial[1].clone();
        for (int t = 0; t < 3; t++) {
            for (int i = 0; i < expected.length; i++) {
                expected[i] = DECAY * expected[i] + (1 - DECAY) * liveWeights(t)[1][i];
            }
        }
        assertArrayEquals(expected, Tensors.toArray(ema.averagedWeights().get(1)), 1e-7f);
    }

    @Test
    void restoredAverageUpdatesAndForwardsContinueAsTheUninterruptedContainer() {
        int total = 7;
        Linear<Float> whole = linear();
        EmaContainer uninterrupted = new EmaContainer(whole, DECAY, true, 2);
        forwards(uninterrupted, whole, 0, total);
        assertEquals(4, uninterrupted.updateCount(), "forwards 0, 2, 4, 6");
        float[][] expected = copies(uninterrupted.averagedWeights()).toArray(new float[0][]);

        // 3: stopped after an odd forward (the next one must not fold); 4: after an even one
        for (int stop : new int[] {3, 4}) {
            Linear<Float> first = linear();
            EmaContainer interrupted = new EmaContainer(first, DECAY, true, 2);
            forwards(interrupted, first, 0, stop);
            List<float[]> averages = copies(interrupted.averagedWeights());
            long updates = interrupted.updateCount();
            assertEquals(2, updates, "forwards 0 and 2 folded before forward " + stop);

            Linear<Float> second = linear();
            EmaContainer resumed = new EmaContainer(second, DECAY, true, 2);
            resumed.restore(averages, updates, stop);
            forwards(resumed, second, stop, total);
            assertEquals(4, resumed.updateCount(), "resumed at forward " + stop);
            for (int p = 0; p < expected.length; p++) {
                assertArrayEquals(expected[p], Tensors.toArray(resumed.averagedWeights().get(p)),
                        "tensor " + p + " resumed at forward " + stop);
            }
        }
        // restoring the forward count matters: counting the forwards as the updates (2) folds forwards 3 and 5
        // instead of 4 and 6
        Linear<Float> first = linear();
        EmaContainer interrupted = new EmaContainer(first, DECAY, true, 2);
        forwards(interrupted, first, 0, 3);
        Linear<Float> second = linear();
        EmaContainer wrong = new EmaContainer(second, DECAY, true, 2);
        wrong.restore(copies(interrupted.averagedWeights()), interrupted.updateCount());
        forwards(wrong, second, 3, total);
        double difference = 0;
        for (int p = 0; p < expected.length; p++) {
            difference = Math.max(difference, TestTensors.maxAbsDiff(expected[p],
                    Tensors.toArray(wrong.averagedWeights().get(p))));
        }
        assertTrue(difference > 1e-3, "the two-argument restore assumes one forward per update: " + difference);
    }

    @Test
    void rejectsAnIntervalBelowOne() {
        assertThrows(IllegalArgumentException.class, () -> new EmaContainer(linear(), DECAY, false, 0));
    }

    @Test
    void warmupStartsWithSmallDecays() {
        EmaContainer ema = new EmaContainer(VisionTransformer.classifier(CONFIG, 3, 1).module(), 0.9999, true);
        assertEquals(2.0 / 11, ema.nextDecay(), 1e-9);
        ema.update();
        assertEquals(3.0 / 12, ema.nextDecay(), 1e-9);
    }
}
