package dev.sparkvit.bench;

import com.intel.analytics.bigdl.dllib.feature.dataset.Sample;
import dev.sparkvit.engine.DistributedTraining;
import dev.sparkvit.engine.Samples;
import dev.sparkvit.engine.Triggers;
import dev.sparkvit.model.losses.CrossEntropyLoss;
import dev.sparkvit.model.optim.AdamW;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * ViT training as users run it: DLlib's DistriOptimizer on the session's master (local[threads]: one node, one
 * single-threaded replica per core, each on batch / threads images), with cross-entropy and AdamW on synthetic
 * images held in memory. Timing is DLlib's own per-iteration "Throughput" (records of the iteration divided by its
 * driver wall time, from fetching the batch through forward, backward, gradient aggregation and the AdamW update to
 * the weights sent back), read from the TrainSummary: it leaves out optimize()'s one-off start-up (broadcasting the
 * model, cloning the replicas), which {@link #startupSeconds()} reports.
 */
public final class VitDistriBenchmark {
    private final VitBenchSettings settings;
    private long parameters;
    private double startupSeconds = Double.NaN;

    public VitDistriBenchmark(VitBenchSettings settings) {
        if (settings.mode() != VitBenchSettings.Mode.DISTRI) {
            throw new IllegalArgumentException("VitDistriBenchmark runs --mode distri, not " + settings.mode());
        }
        this.settings = settings;
    }

    public long parameterCount() {
        return parameters;
    }

    /** Wall time of optimize() not accounted for by its iterations (start-up and summaries). */
    public double startupSeconds() {
        return startupSeconds;
    }

    /** Warm-up iterations, then one images/s sample per block of timed iterations. */
    public double[] run(SparkSession spark) {
        int replicas = DistributedTraining.replicaCount();
        if (replicas != settings.threads()) {
            throw new IllegalStateException("the session trains " + replicas + " replicas, not --threads "
                    + settings.threads() + " (master " + spark.sparkContext().master() + ")");
        }
        VitConfig config = settings.config();
        VisionTransformer vit = VisionTransformer.classifier(config, settings.classes(), settings.seed());
        parameters = vit.parameterCount();
        int datasetSize = 4 * settings.batch();
        SyntheticBatch data = SyntheticBatch.of(datasetSize, config.inChans(), config.imgSize(), settings.classes(),
                settings.seed() + 1);
        List<Sample<Float>> samples = new ArrayList<>();
        for (int i = 0; i < datasetSize; i++) {
            samples.add(Samples.labelled(data.image(i), data.label(i)));
        }
        Path summaryDir = temporaryDirectory();
        try {
            DistributedTraining training = DistributedTraining.of(vit.module(),
                            JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(samples, 1).rdd(),
                            new CrossEntropyLoss(0, null), settings.batch())
                    .optimMethod(AdamW.of(iteration -> 1e-3, 0.05))
                    .endWhen(Triggers.maxIteration(settings.totalSteps()))
                    .summary(summaryDir, "bench");
            long start = System.nanoTime();
            training.optimize();
            double wall = (System.nanoTime() - start) / 1e9;
            float[] throughput = training.scalarHistory("Throughput");
            float[] losses = training.lossHistory();
            training.close();
            if (throughput.length != settings.totalSteps()) {
                throw new IllegalStateException("DistriOptimizer logged " + throughput.length + " iterations, expected "
                        + settings.totalSteps());
            }
            if (!Float.isFinite(losses[losses.length - 1])) {
                throw new IllegalStateException("the benchmark's training loss is not finite");
            }
            double iterationSeconds = 0;
            for (float t : throughput) {
                iterationSeconds += settings.batch() / (double) t;
            }
            startupSeconds = wall - iterationSeconds;
            return blockRates(throughput, settings);
        } finally {
            deleteTree(summaryDir);
        }
    }

    /**
     * Images/s of each timed block from per-iteration throughputs: the block's images over the sum of its
     * iterations' times ({@code batch / throughput}), after the warm-up iterations.
     */
    static double[] blockRates(float[] throughput, VitBenchSettings settings) {
        double[] rates = new double[settings.repeats()];
        for (int r = 0; r < settings.repeats(); r++) {
            double seconds = 0;
            for (int i = 0; i < settings.steps(); i++) {
                seconds += settings.batch() / (double) throughput[settings.warmup() + r * settings.steps() + i];
            }
            rates[r] = (double) settings.batch() * settings.steps() / seconds;
        }
        return rates;
    }

    private static Path temporaryDirectory() {
        try {
            return Files.createTempDirectory("sparkvit-bench-vit");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory", e);
        }
    }

    private static void deleteTree(Path root) {
        try (var walk = Files.walk(root)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + root, e);
        }
    }
}
