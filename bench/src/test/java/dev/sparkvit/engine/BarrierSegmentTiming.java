package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import dev.sparkvit.model.optim.SgdMomentum;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * Report only, not a test (docs/ENGINE.md, "A segment of iterations"): iterations per second of {@link BarrierSegment}
 * segments of {@code iterations} on local[cores] (one task per core), SGD with momentum and clipping:
 * {@code batch iterations repeats [cores] [tiny]}. Prints the median segment, the median iteration of task 0 and where
 * its time went (the step's phases and the exchange's). The training jobs themselves: {@code sparkvit bench product}.
 */
final class BarrierSegmentTiming {
    private BarrierSegmentTiming() {
    }

    public static void main(String[] args) {
        int batch = Integer.parseInt(args[0]);
        int iterations = Integer.parseInt(args[1]);
        int repeats = Integer.parseInt(args[2]);
        int cores = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        // "tiny": vit_tiny's width and depth (192, 12 blocks, 3 heads) on the same 16 px images, 5.3 M parameters
        boolean tiny = args.length > 4 && args[4].equals("tiny");
        dev.sparkvit.engine.blas.MklCpuDispatch.configure();
        SparkSession session = SparkSessions.local(cores, "barrier-segment-timing");
        try {
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(session.sparkContext());
            BarrierSegmentCheck.Kind kind = BarrierSegmentCheck.Kind.CROSS_ENTROPY;
            int images = batch * iterations;
            EpochDataSet<Integer> perCore = BarrierSegmentCheck.data(sc, kind, images, cores, -1, -1);

            AbstractModule<Activity, Activity, Float> model = tiny ? tiny() : BarrierSegmentCheck.model(kind);
            SgdMomentum method = BarrierSegmentCheck.method();
            BarrierSegment segment = new BarrierSegment(model, perCore, batch, BarrierSegmentCheck.loss(kind), method)
                    .clipGradientNorm(0.5);
            BarrierSegment.Start start = BarrierSegment.Start.of(model, method, 0);

            List<Double> barrierSeconds = new ArrayList<>();
            List<BarrierSegment.Result> results = new ArrayList<>();
            for (int r = 0; r <= repeats; r++) { // round 0 warms up
                BarrierSegment.Result result = segment.run(start, iterations);
                if (r > 0) {
                    barrierSeconds.add(result.timing().stageSeconds());
                    results.add(result);
                }
            }
            double barrier = median(barrierSeconds);
            System.out.printf(Locale.ROOT, "model %d parameters, batch %d, local[%d], %d iterations a segment, "
                    + "median of %d (load %s)%n", start.weights().length, batch, cores, iterations, repeats,
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
            System.out.printf(Locale.ROOT, "barrier segment: %.2f s, %.1f it/s (segments %s)%n", barrier,
                    iterations / barrier, barrierSeconds);
            for (BarrierSegment.Result result : results) {
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT,
                        "task 0: median iteration %.1f ms; per iteration:", result.timing().medianIterationMillis()));
                for (Map.Entry<String, Long> phase : result.timing().phaseNanos().entrySet()) {
                    line.append(String.format(Locale.ROOT, " %s %.2f ms,", phase.getKey(),
                            phase.getValue() / 1e6 / iterations));
                }
                System.out.println(line);
            }
            segment.close();
        } catch (Throwable e) {
            e.printStackTrace();
            session.stop();
            System.exit(1);
        }
        session.stop();
        System.exit(0);
    }

    @SuppressWarnings("unchecked")
    private static AbstractModule<Activity, Activity, Float> tiny() {
        dev.sparkvit.model.vit.VitConfig config = new dev.sparkvit.model.vit.VitConfig(BarrierSegmentCheck.SIZE, 4, 3,
                192, 12, 3, 4.0, 0.0, false, 0.0, dev.sparkvit.model.layers.TokenPooling.Mode.CLASS_TOKEN);
        return (AbstractModule<Activity, Activity, Float>) (AbstractModule<?, ?, Float>)
                dev.sparkvit.model.vit.VisionTransformer.classifier(config, BarrierSegmentCheck.CLASSES, 7).module();
    }

    private static double median(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
