package dev.sparkvit.jobs.pretrain;

import com.intel.analytics.bigdl.dllib.nn.Sequential;
import com.intel.analytics.bigdl.dllib.optim.OptimMethod;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.data.augment.Augmentations;
import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.ingest.Manifest;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.data.pairs.PairGenerator;
import dev.sparkvit.engine.BigDlEngine;
import dev.sparkvit.engine.DistributedTraining;
import dev.sparkvit.engine.EmaContainer;
import dev.sparkvit.engine.EpochDataSet;
import dev.sparkvit.engine.Layers;
import dev.sparkvit.engine.Triggers;
import dev.sparkvit.jobs.probe.LinearProbe;
import dev.sparkvit.model.io.VitWeights;
import dev.sparkvit.model.losses.NtXentLoss;
import dev.sparkvit.model.optim.AdamW;
import dev.sparkvit.model.optim.FreezeOutSchedule;
import dev.sparkvit.model.optim.LearningRateSchedule;
import dev.sparkvit.model.optim.WarmupCosine;
import dev.sparkvit.model.vit.Head;
import dev.sparkvit.model.vit.ParameterGroup;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.model.vit.VitPresets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SimCLR pretraining (Chen et al. 2020) of the ViT on an ingested dataset with DistriOptimizer: fresh pairs of views
 * every epoch (both views in one sample, joined into one batch), NT-Xent, one AdamW per parameter group on a warmup
 * + cosine schedule (per-block FreezeOut schedules when enabled, with backward skipped through the frozen prefix),
 * an exact EMA of the weights, and a linear probe of the EMA encoder against the random initial one.
 *
 * <p>Not yet: checkpoints and resume, the no-weight-decay set under DistriOptimizer, YAML configuration.
 */
public final class PretrainJob {
    private static final Logger LOG = LoggerFactory.getLogger(PretrainJob.class);

    private final PretrainSettings settings;

    public PretrainJob(PretrainSettings settings) {
        this.settings = settings;
    }

    public PretrainResult execute(SparkSession spark) {
        Manifest manifest = StoredImages.manifest(spark, settings.dataset());
        VitConfig config = VitPresets.get(settings.preset()).withImgSize(manifest.storedSize());
        Normalize normalize = StoredImages.normalization(manifest);
        int replicas = DistributedTraining.replicaCount();
        if (settings.batchSize() % replicas != 0) {
            throw new IllegalArgumentException("--batch-size = " + settings.batchSize() + " is not a multiple of the "
                    + replicas + " model replicas");
        }

        spark.sparkContext().setJobGroup("pretrain:data", "cache the train split", false);
        PairGenerator pairs = new PairGenerator(Augmentations.simclr(manifest.storedSize(), normalize),
                settings.seed());
        // ordered by id: the order the rows are read in would otherwise decide the training sequence
        EpochDataSet<Row> data = new EpochDataSet<>(StoredImages.read(spark, settings.dataset(), "train")
                .orderBy("id").selectExpr(PairGenerator.COLUMNS).javaRDD(), BigDlEngine.nodeNumber(),
                (epoch, row) -> pairs.sample(row, epoch), settings.seed());
        long images = data.size();
        long perEpoch = (images + settings.batchSize() - 1) / settings.batchSize();
        long total = settings.epochs() * perEpoch;
        long warmup = Math.max(1, settings.warmupEpochs() * perEpoch);
        int negatives = NtXentLoss.negativesPerAnchor(settings.batchSize() / replicas);

        FreezeOutSchedule freezeOut = settings.freezeOut()
                ? FreezeOutSchedule.standard(config.depth(), total, warmup, settings.learningRate()) : null;
        Head head = Head.projection(settings.projectionDim());
        VisionTransformer vit = freezeOut == null ? VisionTransformer.of(config, head, settings.seed())
                : VisionTransformer.withFreezeOut(config, head, settings.seed(), freezeOut);
        VisionTransformer initial = VisionTransformer.encoderOnly(config, settings.seed());
        Sequential<Float> twoViews = Layers.sequential("simclr");
        twoViews.add(Layers.joinBatch());
        twoViews.add(vit.module());
        EmaContainer ema = new EmaContainer(twoViews, settings.emaDecay(), true);
        LOG.info("stage pretrain: {} train images, {} iterations of batch {} ({} negatives per view per replica), {}",
                images, total, settings.batchSize(), negatives, vit);

        spark.sparkContext().setJobGroup("pretrain:train", "SimCLR with DistriOptimizer", false);
        DistributedTraining training = DistributedTraining.of(ema, data, new NtXentLoss(settings.temperature()),
                        settings.batchSize())
                .optimMethods(optimisers(vit, freezeOut, warmup, total))
                .endWhen(Triggers.maxIteration((int) total))
                .summary(settings.outputDir().resolve("tensorboard"), "pretrain-" + System.currentTimeMillis());
        long start = System.nanoTime();
        training.optimize();
        double seconds = (System.nanoTime() - start) / 1e9;
        float[] losses = training.lossHistory();
        training.close();
        ema.update();
        LOG.info("stage pretrain: {} iterations in {} s ({} images/s), loss {} -> {}", losses.length,
                String.format("%.1f", seconds), String.format("%.1f", total * settings.batchSize() / seconds),
                losses[0], losses[losses.length - 1]);

        copyAverageInto(ema, vit);
        spark.sparkContext().setJobGroup("pretrain:probe", "linear probe", false);
        LinearProbe.Result pretrained = LinearProbe.run(spark, vit, settings.dataset(), normalize);
        LinearProbe.Result random = LinearProbe.run(spark, initial, settings.dataset(), normalize);
        LOG.info("stage probe: EMA encoder {}; random encoder {}", pretrained, random);
        Path weights = settings.outputDir().resolve("pretrained-ema.safetensors");
        try {
            VitWeights.save(vit, weights, Map.of("preset", settings.preset(), "seed",
                    String.valueOf(settings.seed()), "config", vit.config().toString()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + weights, e);
        }
        return new PretrainResult(losses, negatives, pretrained, random, weights);
    }

    /** One AdamW per parameter group: FreezeOut schedules for the stem and blocks when enabled. */
    private Map<String, OptimMethod<Float>> optimisers(VisionTransformer vit, FreezeOutSchedule freezeOut,
            long warmup, long total) {
        Map<String, OptimMethod<Float>> methods = new LinkedHashMap<>();
        for (ParameterGroup group : vit.parameterGroups()) {
            LearningRateSchedule schedule;
            if (freezeOut != null && group.name().equals("stem")) {
                schedule = freezeOut.forBlock(0);
            } else if (freezeOut != null && group.name().startsWith("blocks.")) {
                schedule = freezeOut.forBlock(Integer.parseInt(group.name().substring("blocks.".length())));
            } else {
                schedule = new WarmupCosine(settings.learningRate(), warmup, total, 0.0);
            }
            methods.put(group.name(), AdamW.of(schedule, settings.weightDecay()));
        }
        return methods;
    }

    /** Replaces the live weights by the EMA weights (the model is evaluated and saved with them). */
    private static void copyAverageInto(EmaContainer ema, VisionTransformer vit) {
        List<Tensor<Float>> average = ema.averagedWeights();
        int i = 0;
        for (Tensor<Float> weight : vit.namedParameters().values()) {
            weight.copy(average.get(i++));
        }
    }
}
