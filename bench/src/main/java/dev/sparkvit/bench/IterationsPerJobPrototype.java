package dev.sparkvit.bench;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.engine.FloatTypes;
import dev.sparkvit.engine.ModuleParameters;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.model.losses.CrossEntropyLoss;
import dev.sparkvit.model.optim.AdamW;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import scala.Tuple2;

/**
 * PROTOTYPE, not used by the product (issue 8, bench/notes/distri.md): what an iteration costs when a Spark job runs
 * many training iterations instead of DistriOptimizer's two jobs per iteration. For the lead to judge an engine-level
 * training loop; it is reachable only as {@code sparkvit bench vit --mode loop}.
 *
 * <p>Local mode only (one executor): one Spark task per block of {@code steps} iterations keeps the replicas on the
 * executor between jobs (as DistriOptimizer caches them) and, per iteration, runs what DistriOptimizer's replicas and
 * its update job run: {@code threads} replicas sharing one set of weights compute forward and backward on their
 * {@code batch / threads} slice in parallel, their gradients are summed in parallel chunks and averaged, and AdamW
 * steps on the whole flat buffer (one partition's chunk is the whole buffer in local mode). No BlockManager round
 * trips, no per-iteration job. Several executors would need a gradient exchange inside the job (barrier execution
 * and BlockManager blocks, or a ring of executors), which this does not try.
 *
 * <p>Timing: driver wall time of each job (one per timed block), Spark's job overhead included once per block.
 */
public final class IterationsPerJobPrototype {
    private static final Map<String, Replicas> ON_EXECUTOR = new ConcurrentHashMap<>();

    private final VitBenchSettings settings;
    private long parameters;
    private float lastLoss = Float.NaN;
    private float[] trainedWeights = new float[0];

    public IterationsPerJobPrototype(VitBenchSettings settings) {
        this.settings = settings;
    }

    public long parameterCount() {
        return parameters;
    }

    /** Images/s per timed block, each block one Spark job of {@code steps} iterations, after a warm-up job. */
    public double[] run(SparkSession spark) {
        VitConfig config = settings.config();
        VisionTransformer vit = VisionTransformer.classifier(config, settings.classes(), settings.seed());
        parameters = vit.parameterCount();
        SyntheticBatch batch = SyntheticBatch.of(settings.batch(), config.inChans(), config.imgSize(),
                settings.classes(), settings.seed() + 1);
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<AbstractModule<?, ?, Float>> model = sc.broadcast(vit.module());
        Broadcast<SyntheticBatch> data = sc.broadcast(batch);
        String run = java.util.UUID.randomUUID().toString();
        int threads = settings.threads();
        try {
            block(sc, run, model, data, threads, Math.max(1, settings.warmup()));
            double[] rates = new double[settings.repeats()];
            for (int r = 0; r < rates.length; r++) {
                long start = System.nanoTime();
                lastLoss = block(sc, run, model, data, threads, settings.steps());
                rates[r] = (double) settings.batch() * settings.steps() / ((System.nanoTime() - start) / 1e9);
            }
            if (!Float.isFinite(lastLoss)) {
                throw new IllegalStateException("the prototype's training loss is not finite");
            }
            return rates;
        } finally {
            List<float[]> last = sc.parallelize(List.of(0), 1).map(x -> {
                Replicas replicas = ON_EXECUTOR.remove(run);
                if (replicas == null) {
                    return new float[0];
                }
                replicas.pool.shutdown();
                return Tensors.toArray(replicas.weights);
            }).collect();
            trainedWeights = last.get(0);
        }
    }

    /** The flat weights after the last {@link #run} (getParameters() order), to check the prototype's arithmetic. */
    float[] trainedWeights() {
        return trainedWeights.clone();
    }

    /** One Spark job of {@code iterations} training iterations; returns the last loss. */
    private static float block(JavaSparkContext sc, String run, Broadcast<AbstractModule<?, ?, Float>> model,
            Broadcast<SyntheticBatch> data, int threads, int iterations) {
        return sc.parallelize(List.of(0), 1).map(x -> {
            Replicas replicas = ON_EXECUTOR.computeIfAbsent(run, key -> new Replicas(model.value(), threads));
            float loss = Float.NaN;
            for (int i = 0; i < iterations; i++) {
                loss = replicas.iterate(data.value());
            }
            return loss;
        }).collect().get(0);
    }

    /** The replicas of one run on an executor: replica 0 holds the weights, the others share them. */
    private static final class Replicas {
        private final List<AbstractModule<Activity, Activity, Float>> models = new ArrayList<>();
        private final List<Tensor<Float>> gradients = new ArrayList<>();
        private final Tensor<Float> weights;
        private final CrossEntropyLoss[] losses;
        private final AdamW adamw = AdamW.of(iteration -> 1e-3, 0.05);
        private final ExecutorService pool;

        @SuppressWarnings("unchecked")
        Replicas(AbstractModule<?, ?, Float> broadcast, int count) {
            losses = new CrossEntropyLoss[count];
            List<Tensor<Float>> shared = null;
            for (int r = 0; r < count; r++) {
                AbstractModule<Activity, Activity, Float> replica =
                        (AbstractModule<Activity, Activity, Float>) (AbstractModule<?, ?, ?>) broadcast.cloneModule();
                replica.training();
                Tuple2<Tensor<Float>, Tensor<Float>> flat = replica.getParameters();
                gradients.add(flat._2());
                List<Tensor<Float>> own = ModuleParameters.weights(replica);
                if (shared == null) {
                    shared = own;
                } else {
                    for (int p = 0; p < own.size(); p++) {
                        own.get(p).set(shared.get(p)); // in place: the module keeps its tensor objects
                    }
                }
                models.add(replica);
                losses[r] = new CrossEntropyLoss(0, null);
            }
            weights = models.get(0).getParameters()._1();
            pool = Executors.newFixedThreadPool(count);
        }

        float iterate(SyntheticBatch batch) throws InterruptedException, ExecutionException {
            int count = models.size();
            int per = batch.images().size(1) / count;
            List<Future<Float>> results = new ArrayList<>();
            for (int r = 0; r < count; r++) {
                int replica = r;
                results.add(pool.submit(() -> {
                    AbstractModule<Activity, Activity, Float> model = models.get(replica);
                    Tensor<Float> input = batch.images().narrow(1, replica * per + 1, per);
                    Tensor<Float> target = batch.labels().narrow(1, replica * per + 1, per);
                    model.zeroGradParameters();
                    Tensor<Float> out = model.forward(input).toTensor(FloatTypes.NUMERIC);
                    float value = losses[replica].forward(out, target);
                    model.backward(input, losses[replica].backward(out, target));
                    return value;
                }));
            }
            float loss = 0;
            for (Future<Float> result : results) {
                loss += result.get();
            }
            // sum the replicas' gradients into replica 0's, one chunk per thread, then average
            Tensor<Float> sum = gradients.get(0);
            int n = sum.nElement();
            List<Future<?>> chunks = new ArrayList<>();
            for (int t = 0; t < count; t++) {
                int from = (int) ((long) n * t / count);
                int to = (int) ((long) n * (t + 1) / count);
                chunks.add(pool.submit(() -> {
                    float[] g0 = Tensors.data(sum);
                    int o0 = Tensors.offset(sum);
                    for (int r = 1; r < count; r++) {
                        float[] g = Tensors.data(gradients.get(r));
                        int o = Tensors.offset(gradients.get(r));
                        for (int i = from; i < to; i++) {
                            g0[o0 + i] += g[o + i];
                        }
                    }
                    float scale = 1f / count;
                    for (int i = from; i < to; i++) {
                        g0[o0 + i] *= scale;
                    }
                }));
            }
            for (Future<?> chunk : chunks) {
                chunk.get();
            }
            float mean = loss / count;
            adamw.optimize(w -> new Tuple2<>(mean, sum), weights);
            return mean;
        }
    }
}
