package dev.sparkvit.jobs.pretrain;

import static dev.sparkvit.jobs.pretrain.PretrainKeys.BATCH_SIZE;
import static dev.sparkvit.jobs.train.TrainingKeys.CHECKPOINT_EVERY;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.CLIP_GRAD_NORM;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.EMA_DECAY;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.EMA_WARMUP;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.EPOCHS;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.LARS_ETA;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.INPUT;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.MODEL;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.NEGATIVES;
import static dev.sparkvit.jobs.train.TrainingKeys.NON_FINITE_POLICY;
import static dev.sparkvit.jobs.train.TrainingKeys.ON_CORRUPT;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.PROJECTION_DIM;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.PROJECTION_NORM;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.SEED;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.TEMPERATURE;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.WARMUP_EPOCHS;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.WEIGHT_DECAY;

import com.intel.analytics.bigdl.dllib.nn.Sequential;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import dev.sparkvit.data.augment.Augmentations;
import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.ingest.Manifest;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.data.pairs.PairGenerator;
import dev.sparkvit.data.stream.RowFilter;
import dev.sparkvit.engine.BarrierSegment;
import dev.sparkvit.engine.EpochDataSet;
import dev.sparkvit.engine.Layers;
import dev.sparkvit.jobs.probe.LinearProbe;
import dev.sparkvit.jobs.train.MemoryUse;
import dev.sparkvit.jobs.train.TrainingConfig;
import dev.sparkvit.jobs.train.RunState;
import dev.sparkvit.jobs.train.TrainingMethod;
import dev.sparkvit.jobs.train.TrainingRestarts;
import dev.sparkvit.jobs.train.TrainingScalars;
import dev.sparkvit.model.losses.BarrierNtXent;
import dev.sparkvit.model.losses.GlobalNtXent;
import dev.sparkvit.model.optim.FreezeOutSchedule;
import dev.sparkvit.model.vit.Head;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.model.vit.VitVariant;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SimCLR pretraining as a {@link TrainingMethod} of the barrier loop ({@link dev.sparkvit.jobs.train.BarrierTraining}): both views
 * of each image joined into one batch, global NT-Xent over the whole batch (2B - 2 negatives per view), the
 * parameter groups (FreezeOut's schedules) and processor (decoupled decay or LARS), the linear
 * probe and the collapse check at epoch ends, the EMA encoder saved at the end.
 */
final class SimClrMethod implements TrainingMethod<PretrainResult> {
    private static final Logger LOG = LoggerFactory.getLogger(SimClrMethod.class);
    private static final String GROUP = "SimCLR on barrier execution";

    private final PretrainJob job;
    private final PretrainSettings settings;
    private final SparkSession spark;
    private final Path output;
    private final PrintStream console;
    private VitConfig config;
    private Head head;
    private Normalize normalize;
    private VisionTransformer vit;
    private VisionTransformer initial;
    private PretrainOptimizers optimizers;
    private FreezeOutSchedule freezeOut;
    private CollapseMonitor collapse;
    private PretrainMonitor monitor;
    private long images;
    private long perEpoch;
    private long total;
    private int negatives;
    private LinearProbe.Result pretrained;

    SimClrMethod(PretrainJob job, PretrainSettings settings, SparkSession spark, Path output, PrintStream console) {
        this.job = job;
        this.settings = settings;
        this.spark = spark;
        this.output = output;
        this.console = console;
    }

    @Override
    public Run run() {
        return new Run(PretrainJob.RUN_NAME, settings.source(),
                RunState.withSnapshot(settings.fingerprint(), job.data()), settings.get(ON_CORRUPT),
                settings.get(BATCH_SIZE), 1, settings.get(CHECKPOINT_EVERY), settings.get(CLIP_GRAD_NORM),
                settings.get(NON_FINITE_POLICY),
                new BarrierSegment.Ema(settings.get(EMA_DECAY), settings.get(EMA_WARMUP)), settings.get(SEED));
    }

    @Override
    public Model build(SparkSession session, TrainingRestarts.Start attempt, int tasks, boolean resuming) {
        Manifest manifest = StoredImages.manifest(spark, job.data());
        config = settings.get(MODEL).config();
        job.sayImageSize(manifest, attempt);
        normalize = StoredImages.normalization(manifest);
        MemoryUse.training(settings.preset(), config.imgSize(), config.numTokens(),
                2 * settings.get(BATCH_SIZE) / tasks);

        spark.sparkContext().setJobGroup("pretrain:data", settings.get(INPUT).streamed()
                ? "count the train split's rows per data file" : "cache the train split", false);
        PairGenerator pairs = new PairGenerator(Augmentations.simclr(config.imgSize(), normalize), settings.get(SEED));
        EpochDataSet<Row> data = job.attemptData(EpochDataSet.of(settings.get(INPUT).source(spark, job.data(),
                PairGenerator.COLUMNS, RowFilter.ALL, tasks, 1, settings.get(SEED), () -> StoredImages.read(spark,
                        job.data(), "train").orderBy("id").selectExpr(PairGenerator.COLUMNS).javaRDD()),
                (epoch, row) -> pairs.sample(row, epoch)));
        images = data.size();
        perEpoch = (images + settings.get(BATCH_SIZE) - 1) / settings.get(BATCH_SIZE);
        total = settings.get(EPOCHS) * perEpoch;
        long warmup = TrainingConfig.warmupSteps(settings.source(), settings.get(WARMUP_EPOCHS), perEpoch, 1, total);
        boolean replica = settings.get(NEGATIVES).equals("replica");
        negatives = 2 * settings.get(BATCH_SIZE) / (replica ? tasks : 1) - 2;

        // projection_norm: batch is SyncBatchNorm here: the global batch's statistics in every task
        head = Head.projection(settings.get(PROJECTION_DIM), settings.get(PROJECTION_NORM).equals("batch"), true);
        freezeOut = job.freezeOut(config, total, warmup);
        vit = freezeOut == null ? VisionTransformer.of(config, head, settings.get(SEED))
                : VisionTransformer.withFreezeOut(config, head, settings.get(SEED), freezeOut);
        initial = VisionTransformer.encoderOnly(config, settings.get(SEED));
        Sequential<Float> twoViews = Layers.sequential("simclr");
        twoViews.add(Layers.joinBatch());
        twoViews.add(vit.module());
        AbstractModule<Activity, Activity, Float> model = job.wrapped(twoViews);
        model.getParameters(); // compact: decay ranges and group slices are positions in the flat buffer
        // the parameter groups, schedules (FreezeOut's per block) and processor (decay or LARS)
        optimizers = new PretrainOptimizers(settings, vit, freezeOut, warmup, total);
        double temperature = settings.get(TEMPERATURE);
        BarrierSegment.Loss loss = replica
                ? () -> BarrierNtXent.replicaSliceLoss(new GlobalNtXent(temperature))
                : () -> BarrierNtXent.sliceLoss(new GlobalNtXent(temperature));
        return new Model(vit, model, () -> VisionTransformer.blank(config, head), data, perEpoch, total, loss,
                optimizers.methods(), optimizers.processor(vit, settings.get(WEIGHT_DECAY), settings.get(LARS_ETA)));
    }

    @Override
    public void started(long iteration, TrainingScalars scalars, int tasks) {
        // NT-Xent's chance value is of the batch one loss sees: every view meets 2B - 2 negatives (2B / T - 2 with
        // training.negatives: replica)
        boolean replica = settings.get(NEGATIVES).equals("replica");
        collapse = CollapseMonitor.of(spark, job.data(), normalize, config, head,
                settings.get(BATCH_SIZE) / (replica ? tasks : 1), Math.max(2, settings.get(WARMUP_EPOCHS)));
        console.printf("pretrain: %d images, %d epochs of %d iterations, batch %d on %d barrier tasks "
                + "(%s NT-Xent: %d negatives per view, chance %.4f), %s, "
                + "%s%n", images, settings.get(EPOCHS), perEpoch, settings.get(BATCH_SIZE), tasks,
                replica ? "per-task" : "global", negatives,
                collapse.chance(), VitVariant.of(config), freezeOut == null ? "FreezeOut off" : "FreezeOut on");
        LOG.info("stage pretrain: {} train images, {} iterations of batch {} on {} barrier tasks ({} negatives "
                + "per view), {}", images, total, settings.get(BATCH_SIZE), tasks, negatives, vit);
        spark.sparkContext().setJobGroup("pretrain:train", GROUP, false);
        monitor = job.monitor(scalars, total, perEpoch, iteration);
    }

    @Override
    public void segment(long from, long to, double seconds, BarrierSegment.Result result) {
        if (result.negativesPerView() != negatives) {
            throw new IllegalStateException("the segment met " + result.negativesPerView()
                    + " negatives per view, not 2B - 2 = " + negatives);
        }
        monitor.segment(from, to, seconds, optimizers.schedules());
        job.carry(monitor);
    }

    @Override
    public void epochEnd(EpochEnd end) {
        LinearProbe.Result probe = job.endEpoch(spark, end.epoch(), end.last(), end.ema(), GROUP, normalize, vit,
                monitor, collapse, new PretrainJob.EpochFigures(end.losses(), end.seconds(), end.images(),
                        end.iteration()));
        if (end.last()) {
            pretrained = probe;
        }
        job.carry(monitor);
    }

    @Override
    public PretrainResult finish(Finish finish) {
        if (!finish.complete()) {
            return new PretrainResult(finish.losses(), negatives, null, null, null, null, monitor.history());
        }
        return job.finished(spark, output, finish.losses(), negatives, pretrained, finish.ema().get(), initial,
                normalize, monitor, collapse, Map.of("engine", RunState.ENGINE));
    }
}
