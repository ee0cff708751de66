package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.nn.Sequential;
import dev.sparkvit.model.optim.SgdMomentum;
import dev.sparkvit.model.vit.Head;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.testing.ChildJvm;
import dev.sparkvit.testing.SharedSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.spark.ExceptionFailure;
import org.apache.spark.TaskKilled;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link BarrierSegment}: a segment of iterations in one barrier stage equals one replica trained on the whole
 * batches ({@link BarrierSegmentCheck}), for cross-entropy with clipping on local[2] and local[4] (a child JVM, uneven
 * partitions) and for NT-Xent with global negatives; two segments give the bits of one; a non-finite loss stops
 * every task at the same iteration and leaves no block.
 */
@ExtendWith(SharedSpark.class)
class BarrierSegmentTest {
    /** Small enough that every iteration of these runs clips (norms 2.9-6.7 cross-entropy, 3.9-37 NT-Xent). */
    static final double CLIP = 0.5;

    @Test
    void crossEntropyWithClippingOnLocal2() {
        String line = BarrierSegmentCheck.exactness(SharedSpark.context(), BarrierSegmentCheck.Kind.CROSS_ENTROPY,
                41, 8, 5, CLIP);
        System.out.println("BarrierSegmentTest: " + line);
        assertTrue(line.contains("2 barrier tasks"), line);
        assertTrue(line.contains(" 5 clipped"), line);
    }

    @Test
    void ntXentOverTheGlobalBatchOnLocal2() {
        String line = BarrierSegmentCheck.exactness(SharedSpark.context(), BarrierSegmentCheck.Kind.NT_XENT,
                40, 8, 3, CLIP);
        System.out.println("BarrierSegmentTest: " + line);
        assertTrue(line.contains("2 barrier tasks"), line);
        assertTrue(line.contains(" 3 clipped"), line);
        assertTrue(line.contains("14 negatives per view"), line);
    }

    /**
     * The resume contract: a segment of 3 iterations, then one of 2 from its result, gives the bits of one of 5, with
     * SGD with momentum and clipping, and with AdamW.
     */
    @Test
    void twoSegmentsEqualOneBitForBit() {
        String sgd = threePlusTwo(BarrierSegmentCheck.method(), CLIP);
        String adamw = threePlusTwo(dev.sparkvit.model.optim.AdamW.of(i -> 1e-3, 0.05), 0);
        System.out.println("BarrierSegmentTest: 3 + 2 iterations equal 5 bit for bit (weights, optimiser state, "
                + "losses, norms): SGD " + sgd + "; AdamW " + adamw);
    }

    /**
     * The same with SimCLR's head's BatchNorm synchronised and drop-path (rate 0.5 in the last of 2 blocks): the
     * tasks' all-gathers inside forward and backward and the draws keyed by (seed, iteration, row) keep a segment a
     * function of its start; another run seed draws other masks (so drop-path acts and the seed reaches it).
     */
    @Test
    void syncBatchNormAndDropPathTwoSegmentsEqualOneBitForBit() {
        BarrierSegmentCheck.Kind kind = BarrierSegmentCheck.Kind.NT_XENT;
        Sequential<Float> twoViews = Layers.sequential("simclr");
        twoViews.add(Layers.joinBatch());
        twoViews.add(VisionTransformer.of(DataParallelStepCheck.config().withDropPathRate(0.5),
                Head.projection(DataParallelStepCheck.PROJECTION, true, true), DataParallelStepCheck.MODEL_SEED)
                .module());
        @SuppressWarnings("unchecked")
        AbstractModule<Activity, Activity, Float> model =
                (AbstractModule<Activity, Activity, Float>) (AbstractModule<?, ?, Float>) twoViews;
        String line = threePlusTwo(kind, model, 40, BarrierSegmentCheck.method(), CLIP, 5);
        System.out.println("BarrierSegmentTest: SyncBatchNorm and drop-path, 3 + 2 iterations equal 5 bit for bit: "
                + line);
    }

    private static String threePlusTwo(com.intel.analytics.bigdl.dllib.optim.OptimMethod<Float> method,
            double clip) {
        BarrierSegmentCheck.Kind kind = BarrierSegmentCheck.Kind.CROSS_ENTROPY;
        return threePlusTwo(kind, BarrierSegmentCheck.model(kind), 41, method, clip, Seeds.DEFAULT);
    }

    private static String threePlusTwo(BarrierSegmentCheck.Kind kind, AbstractModule<Activity, Activity, Float> model,
            int images, com.intel.analytics.bigdl.dllib.optim.OptimMethod<Float> method, double clip, long seed) {
        JavaSparkContext sc = SharedSpark.context();
        EpochDataSet<Integer> data = BarrierSegmentCheck.data(sc, kind, images, 2, -1, -1);
        try (BarrierSegment segment = new BarrierSegment(model, data, 8, BarrierSegmentCheck.loss(kind), method)
                .clipGradientNorm(clip).seed(seed)) {
            BarrierSegment.Start start = BarrierSegment.Start.of(model, method, 0);
            BarrierSegment.Result whole = segment.run(start, 5);
            BarrierSegment.Result first = segment.run(start, 3);
            BarrierSegment.Result second = segment.run(first.next(), 2);
            assertEquals(3, second.firstIteration());
            assertEquals(5, second.optimizer().get(BarrierSegment.WHOLE).step());
            assertTrue(Arrays.equals(whole.weights(), second.weights()), "weights after 3 + 2 and after 5");
            assertFalse(whole.optimizer().get(BarrierSegment.WHOLE).buffers().isEmpty());
            assertEquals(whole.optimizer().get(BarrierSegment.WHOLE).buffers().keySet(), second.optimizer().get(BarrierSegment.WHOLE).buffers().keySet());
            whole.optimizer().get(BarrierSegment.WHOLE).buffers().forEach((name, values) -> assertTrue(Arrays.equals(values,
                    second.optimizer().get(BarrierSegment.WHOLE).buffers().get(name)), "optimiser buffer " + name));
            double[] losses = new double[5];
            double[] norms = new double[5];
            System.arraycopy(first.losses(), 0, losses, 0, 3);
            System.arraycopy(second.losses(), 0, losses, 3, 2);
            System.arraycopy(first.norms(), 0, norms, 0, 3);
            System.arraycopy(second.norms(), 0, norms, 3, 2);
            assertArrayEquals(whole.losses(), losses, 0.0, "losses");
            assertArrayEquals(whole.norms(), norms, 0.0, "norms");
            // and the same segment again from the same start: the same bits (nothing carried on the executors)
            assertTrue(Arrays.equals(whole.weights(), segment.run(start, 5).weights()), "a repeated segment");
            if (seed != Seeds.DEFAULT) { // another seed: other drop-path masks, other weights
                assertFalse(Arrays.equals(whole.weights(), segment.seed(Seeds.DEFAULT).run(start, 5).weights()),
                        "another run seed must draw other drop-path masks");
            }
            return "losses " + Arrays.toString(losses) + ", buffers " + whole.optimizer().get(BarrierSegment.WHOLE).buffers().keySet()
                    + ", segments " + seconds(whole) + " s, " + seconds(first) + " + " + seconds(second) + " s";
        }
    }

    /** The iteration-dependent rate of the decay tests: AdamW's and the decay's (its index must line up). */
    private static final DecoupledWeightDecay.Rate RATE = i -> 1e-3 * (1 + i);
    private static final double WEIGHT_DECAY = 0.3;
    private static final BarrierSegment.Ema EMA = new BarrierSegment.Ema(0.9, true);

    /** AdamW without coupled decay on {@link #RATE}, as PretrainOptimizers builds it (decay is the processor's). */
    private static dev.sparkvit.model.optim.AdamW adamw() {
        return dev.sparkvit.model.optim.AdamW.of(RATE::at, 0);
    }

    /** Decoupled decay of every tensor of more than one dimension (biases and norms excluded), at {@link #RATE}. */
    private static DecoupledWeightDecay decayOf(AbstractModule<Activity, Activity, Float> model) {
        model.getParameters();
        List<DecoupledWeightDecay.Range> ranges = new ArrayList<>();
        for (com.intel.analytics.bigdl.dllib.tensor.Tensor<Float> w : model.parameters()._1()) {
            if (w.nDimension() > 1) {
                ranges.add(DecoupledWeightDecay.rangeOf(w, RATE));
            }
        }
        return new DecoupledWeightDecay(WEIGHT_DECAY, ranges);
    }

    /**
     * Decoupled weight decay and the EMA (decay 0.9 with warmup) on 2 tasks, with AdamW and clipping, against one
     * replica on the driver trained on the whole batches with the product's pieces: the same
     * {@link DecoupledWeightDecay} before each update and an {@link EmaContainer} around the replica folding before
     * each forward, then once after the last update.
     */
    @Test
    void weightDecayAndEmaEqualOneReplica() {
        JavaSparkContext sc = SharedSpark.context();
        BarrierSegmentCheck.Kind kind = BarrierSegmentCheck.Kind.CROSS_ENTROPY;
        int batch = 8;
        int iterations = 5;
        EpochDataSet<Integer> data = BarrierSegmentCheck.data(sc, kind, 41, 2, -1, -1);

        // one replica on the driver over the same global batches (BarrierSegmentCheck.reference, with decay and EMA)
        List<List<com.intel.analytics.bigdl.dllib.feature.dataset.Sample<Float>>> partitions =
                data.data(false).toJavaRDD().glom().collect();
        int slice = batch / partitions.size();
        AbstractModule<Activity, Activity, Float> replica = BarrierSegmentCheck.model(kind);
        scala.Tuple2<com.intel.analytics.bigdl.dllib.tensor.Tensor<Float>,
                com.intel.analytics.bigdl.dllib.tensor.Tensor<Float>> flat = replica.getParameters();
        float[] initial = Tensors.toArray(flat._1());
        EmaContainer average = new EmaContainer(replica, EMA.decay(), EMA.warmup());
        replica.training();
        DecoupledWeightDecay referenceDecay = decayOf(replica);
        dev.sparkvit.model.optim.AdamW referenceMethod = adamw();
        var criterion = BarrierSegmentCheck.crossEntropy();
        var toBatch = com.intel.analytics.bigdl.dllib.feature.dataset.SampleToMiniBatch$.MODULE$.apply(batch,
                scala.Option.empty(), scala.Option.empty(), scala.Option.apply((Object) 1), true, FloatTypes.TAG,
                FloatTypes.NUMERIC);
        for (int k = 0; k < iterations; k++) {
            List<com.intel.analytics.bigdl.dllib.feature.dataset.Sample<Float>> whole = new ArrayList<>();
            for (var partition : partitions) {
                for (int j = 0; j < slice; j++) {
                    whole.add(partition.get((k * slice + j) % partition.size()));
                }
            }
            var miniBatch = toBatch.apply(scala.collection.JavaConverters.asScalaIterator(whole.iterator())).next();
            average.update(); // EmaContainer's forward: the weights after the previous update
            replica.zeroGradParameters();
            Activity input = miniBatch.getInput();
            var target = miniBatch.getTarget().toTensor(FloatTypes.NUMERIC);
            var output = replica.forward(input).toTensor(FloatTypes.NUMERIC);
            float value = criterion.forward(output, target);
            replica.backward(input, criterion.backward(output, target));
            var gradients = flat._2();
            double norm = BarrierSegmentCheck.norm(Tensors.toArray(gradients));
            if (norm > CLIP) {
                gradients.div((float) (norm / CLIP));
            }
            referenceDecay.apply(flat._1(), 0, k);
            referenceMethod.optimize(w -> new scala.Tuple2<>(value, gradients), flat._1());
        }
        float[] referenceWeights = Tensors.toArray(flat._1());
        float[] referenceEmaBefore = concat(average.averagedWeights());
        average.update(); // the product's final fold, at the end of training
        float[] referenceEma = concat(average.averagedWeights());

        AbstractModule<Activity, Activity, Float> model = BarrierSegmentCheck.model(kind);
        dev.sparkvit.model.optim.AdamW method = adamw();
        try (BarrierSegment segment = new BarrierSegment(model, data, batch, BarrierSegmentCheck.loss(kind), method)
                .clipGradientNorm(CLIP).weightDecay(decayOf(model)).ema(EMA)) {
            BarrierSegment.Start start = BarrierSegment.Start.of(model, method, 0);
            assertArrayEquals(initial, start.weights(), 0f, "the same initial weights");
            BarrierSegment.Result whole = segment.run(start, iterations);
            assertEquals(iterations, whole.emaUpdates());
            float[] ema = EMA.folded(whole.ema(), whole.emaUpdates(), whole.weights());
            double weightError = BarrierSegmentCheck.relative(whole.weights(), referenceWeights);
            double emaBeforeError = BarrierSegmentCheck.relative(whole.ema(), referenceEmaBefore);
            double emaError = BarrierSegmentCheck.relative(ema, referenceEma);
            assertTrue(weightError <= BarrierSegmentCheck.RELATIVE, "weights off by relative " + weightError);
            assertTrue(emaBeforeError <= 1e-6, "EMA (5 folds) off by relative " + emaBeforeError);
            // the final fold takes in the final weights, which carry the weights' own error (AdamW's first steps
            // divide by sqrt(v): tiny gradient elements amplify summation-order differences), so it is held to the
            // weights' tolerance; the fold itself is EmaContainer's bit for bit: the container restored to the
            // segment's average and count, with the segment's weights, folds to the same bits
            assertTrue(emaError <= BarrierSegmentCheck.RELATIVE, "EMA (6 folds) off by relative " + emaError);
            AbstractModule<Activity, Activity, Float> holder = BarrierSegmentCheck.model(kind);
            var holderFlat = holder.getParameters()._1();
            EmaContainer container = new EmaContainer(holder, EMA.decay(), EMA.warmup());
            container.restore(split(whole.ema(), container.averagedWeights()), whole.emaUpdates());
            System.arraycopy(whole.weights(), 0, Tensors.data(holderFlat), Tensors.offset(holderFlat),
                    whole.weights().length);
            container.update();
            assertTrue(Arrays.equals(ema, concat(container.averagedWeights())), "the final fold and EmaContainer's");
            // the decay and the EMA did something: without decay the weights differ far beyond the tolerance, and
            // the average is not the live weights
            BarrierSegment.Result undecayed;
            try (BarrierSegment plain = new BarrierSegment(model, data, batch, BarrierSegmentCheck.loss(kind),
                    method).clipGradientNorm(CLIP)) {
                undecayed = plain.run(start, iterations);
            }
            assertNull(undecayed.ema());
            double decayEffect = BarrierSegmentCheck.relative(undecayed.weights(), referenceWeights);
            double emaLag = BarrierSegmentCheck.relative(ema, whole.weights());
            assertTrue(decayEffect > 100 * BarrierSegmentCheck.RELATIVE, "decay effect " + decayEffect);
            assertTrue(emaLag > 1e-4, "EMA against the live weights " + emaLag);

            // 3 + 2 = 5 bit for bit, the EMA and its count included
            BarrierSegment.Result first = segment.run(start, 3);
            BarrierSegment.Result second = segment.run(first.next(), 2);
            assertEquals(3, first.emaUpdates());
            assertEquals(5, second.emaUpdates());
            assertTrue(Arrays.equals(whole.weights(), second.weights()), "weights after 3 + 2 and after 5");
            assertTrue(Arrays.equals(whole.ema(), second.ema()), "EMA after 3 + 2 and after 5");
            whole.optimizer().get(BarrierSegment.WHOLE).buffers().forEach((name, values) -> assertTrue(Arrays.equals(values,
                    second.optimizer().get(BarrierSegment.WHOLE).buffers().get(name)), "optimiser buffer " + name));
            System.out.println(String.format(java.util.Locale.ROOT, "BarrierSegmentTest: weight decay %.2g (%d "
                    + "ranges) and EMA %s on 2 tasks, AdamW, clipping: relative error against one replica: weights "
                    + "%.2e, EMA %.2e (5 folds) and %.2e (with the final fold, bit for bit EmaContainer's fold); without decay the weights differ by "
                    + "%.2e, the EMA from the live weights by %.2e; 3 + 2 = 5 bit for bit (weights, moments, EMA); "
                    + "segments %s s, %s + %s s", WEIGHT_DECAY, decayOf(model).ranges().size(), EMA, weightError,
                    emaBeforeError, emaError, decayEffect, emaLag, seconds(whole), seconds(first), seconds(second)));
        }
    }

    private static List<float[]> split(float[] flat,
            List<com.intel.analytics.bigdl.dllib.tensor.Tensor<Float>> like) {
        List<float[]> out = new ArrayList<>();
        int at = 0;
        for (var t : like) {
            out.add(Arrays.copyOfRange(flat, at, at + t.nElement()));
            at += t.nElement();
        }
        return out;
    }

    private static float[] concat(List<com.intel.analytics.bigdl.dllib.tensor.Tensor<Float>> tensors) {
        int n = tensors.stream().mapToInt(t -> t.nElement()).sum();
        float[] out = new float[n];
        int at = 0;
        for (var t : tensors) {
            float[] values = Tensors.toArray(t);
            System.arraycopy(values, 0, out, at, values.length);
            at += values.length;
        }
        return out;
    }

    /**
     * A NaN pixel in task 1's sample of iteration 4 makes the global loss NaN on both tasks: the segment fails with
     * the one-line message naming iteration 4, every task that ran to it threw that message, and no block of the
     * exchange is left in the BlockManager.
     */
    @Test
    void aNonFiniteLossStopsEveryTaskAtTheSameIteration() throws Exception {
        JavaSparkContext sc = SharedSpark.context();
        BarrierSegmentCheck.Kind kind = BarrierSegmentCheck.Kind.CROSS_ENTROPY;
        int slice = 4;
        EpochDataSet<Integer> data = BarrierSegmentCheck.data(sc, kind, 40, 2, 1, 3L * slice + 1);
        AbstractModule<Activity, Activity, Float> model = BarrierSegmentCheck.model(kind);
        SgdMomentum method = BarrierSegmentCheck.method();
        List<String> ends = new CopyOnWriteArrayList<>();
        SparkListener listener = new SparkListener() {
            @Override
            public void onTaskEnd(SparkListenerTaskEnd end) {
                if (end.reason() instanceof ExceptionFailure failure) {
                    ends.add("failed: " + failure.description());
                } else if (end.reason() instanceof TaskKilled killed) {
                    ends.add("killed: " + killed.reason());
                } else {
                    ends.add(String.valueOf(end.reason()));
                }
            }
        };
        NonFiniteTrainingException stop;
        try (BarrierSegment segment = new BarrierSegment(model, data, 2 * slice, BarrierSegmentCheck.loss(kind),
                method)) {
            sc.sc().addSparkListener(listener);
            try {
                stop = assertThrows(NonFiniteTrainingException.class,
                        () -> segment.run(BarrierSegment.Start.of(model, method, 0), 5));
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (ends.size() < 2 && System.nanoTime() < until) {
                    Thread.sleep(20);
                }
            } finally {
                sc.sc().removeSparkListener(listener);
            }
            assertEquals(3, stop.step().iteration(), stop.getMessage());
            assertTrue(stop.getMessage().startsWith("non-finite loss NaN, gradient norm NaN at iteration 4 "),
                    stop.getMessage());
            assertFalse(stop.getMessage().contains("\n"), stop.getMessage());
            assertEquals(2, ends.size(), ends.toString());
            long failed = ends.stream().filter(e -> e.startsWith("failed: " + stop.getMessage())).count();
            assertTrue(failed >= 1 && ends.stream().allMatch(e -> e.startsWith("failed: " + stop.getMessage())
                    || e.startsWith("killed: ")), ends.toString());
            BarrierAllReduceCheck.assertNoBlockOnAnyExecutor(sc, 2, "after the non-finite segment");
            // the segment is lost, its start still valid: iterations 1 to 3 run
            BarrierSegment.Result before = segment.run(BarrierSegment.Start.of(model, method, 0), 3);
            assertTrue(Arrays.stream(before.losses()).allMatch(Double::isFinite));
            System.out.println("BarrierSegmentTest: " + stop.getMessage() + "; tasks: " + failed + " threw it, "
                    + (ends.size() - failed) + " killed; no block left");
        }
    }

    @Test
    void fourTasksOnUnevenPartitionsOnLocal4(@TempDir Path tmp) throws Exception {
        // 42 images in 4 partitions: 11, 11, 10, 10
        List<String> checks = List.of("ce:42:8:5:" + CLIP, "ntxent:42:8:3:" + CLIP);
        List<String> args = new ArrayList<>(List.of("4"));
        args.addAll(checks);
        List<String> command = ChildJvm.command("1g", BarrierSegmentCheck.class.getName(), args);
        Path out = tmp.resolve("out");
        Path err = tmp.resolve("err");
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        Process process = builder.start();
        boolean exited = process.waitFor(4, TimeUnit.MINUTES);
        if (!exited) {
            process.destroyForcibly().waitFor();
        }
        String output = Files.readString(out);
        assertTrue(exited, "still running after 4 minutes: " + output + Files.readString(err));
        assertEquals(0, process.exitValue(), output + Files.readString(err));
        List<String> checked = output.lines().filter(l -> l.startsWith("OK ")).toList();
        checked.forEach(l -> System.out.println("BarrierSegmentTest: " + l));
        assertEquals(checks.size(), checked.size(), output);
        assertTrue(checked.get(0).contains("4 barrier tasks"), output);
        assertTrue(checked.get(0).contains(" 5 clipped"), output);
        assertTrue(checked.get(1).contains("4 barrier tasks"), output);
        assertTrue(checked.get(1).contains("14 negatives per view"), output);
    }

    private static String seconds(BarrierSegment.Result result) {
        return String.format(java.util.Locale.ROOT, "%.2f", result.timing().stageSeconds());
    }
}
