package dev.sparkvit.jobs.finetune;

import static dev.sparkvit.jobs.finetune.FinetuneKeys.BATCH_SIZE;
import static dev.sparkvit.jobs.train.TrainingKeys.CHECKPOINT_EVERY;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.CLIP_GRAD_NORM;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.EMA;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.GRADIENT_ACCUMULATION_STEPS;
import static dev.sparkvit.jobs.train.TrainingKeys.NON_FINITE_POLICY;
import static dev.sparkvit.jobs.train.TrainingKeys.ON_CORRUPT;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.SEED;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.WEIGHT_DECAY;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import dev.sparkvit.engine.BarrierSegment;
import dev.sparkvit.engine.DataParallelStep;
import dev.sparkvit.engine.EpochDataSet;
import dev.sparkvit.engine.FloatCriterion;
import dev.sparkvit.jobs.train.MemoryUse;
import dev.sparkvit.jobs.train.TrainingMethod;
import dev.sparkvit.jobs.train.RunState;
import dev.sparkvit.jobs.train.TrainingRestarts;
import dev.sparkvit.jobs.train.TrainingScalars;
import dev.sparkvit.model.optim.FreezeOutSchedule;
import dev.sparkvit.model.vit.Head;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import java.nio.file.Path;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Supervised fine-tuning as a {@link TrainingMethod} of the barrier loop ({@link dev.sparkvit.jobs.train.BarrierTraining}): the
 * classifier FinetuneJob builds (SSL encoder, LP-FT head), augmented and mixed samples (mixed within each task's slice
 * of the batch), the configured criterion as the mean over the global batch ({@link
 * DataParallelStep#meanOverGlobalBatch}: every criterion FinetuneJob builds is a mean of per-sample terms, so the loss
 * and gradient are one replica's on the whole batch), FinetuneOptimizers' AdamW per parameter group (layer decay,
 * FreezeOut; gradient accumulation: an iteration is a micro-batch, the EMA folds once per step) and decoupled decay,
 * validation of the live and EMA weights at every epoch's end, both classifiers written at the end.
 */
final class SupervisedMethod implements TrainingMethod<FinetuneResult> {
    private static final String GROUP = "fine-tuning on barrier execution";

    private final FinetuneJob job;
    private final FinetuneSettings settings;
    private final SparkSession spark;
    private final Path output;
    private FinetuneJob.Prepared prepared;
    private FinetuneJob.Schedule schedule;
    private FinetuneOptimizers optimizers;
    private VisionTransformer vit;
    private Dataset<Row> val;
    private Map<String, String> meta;
    private FinetuneMonitor monitor;
    private FinetuneJob.Validation last;
    private long images;

    SupervisedMethod(FinetuneJob job, FinetuneSettings settings, SparkSession spark, Path output) {
        this.job = job;
        this.settings = settings;
        this.spark = spark;
        this.output = output;
    }

    @Override
    public Run run() {
        // the EMA is always kept (and checkpointed), folding once per optimiser step (every accumulation
        // steps-th iteration); training.ema.enabled decides whether it is validated
        return new Run(FinetuneJob.RUN_NAME, settings.source(),
                RunState.withSnapshot(settings.fingerprint(), job.data()), settings.get(ON_CORRUPT),
                settings.get(BATCH_SIZE), settings.get(GRADIENT_ACCUMULATION_STEPS), settings.get(CHECKPOINT_EVERY),
                settings.get(CLIP_GRAD_NORM), settings.get(NON_FINITE_POLICY),
                new BarrierSegment.Ema(settings.get(EMA).decay(), settings.get(EMA).warmup(),
                        settings.get(GRADIENT_ACCUMULATION_STEPS)), settings.get(SEED));
    }

    @Override
    public Model build(SparkSession session, TrainingRestarts.Start attempt, int tasks, boolean resuming) {
        prepared = job.prepare(spark, attempt);
        VitConfig config = prepared.config();
        int slice = settings.microBatch() / tasks; // an iteration is a micro-batch; each task takes its slice
        MemoryUse.training(settings.preset(), config.imgSize(), config.numTokens(), slice);
        // one partition per task; mixup and cutmix mix within a task's slice of the micro-batch
        EpochDataSet<Row> data = job.trainingData(spark, prepared, tasks, slice);
        val = job.validationSplit(spark);
        images = data.size();
        schedule = job.schedule(images);
        FreezeOutSchedule freezeOut = job.freezeOut(config.depth(), schedule.totalSteps(), schedule.warmupSteps());
        vit = job.classifier(spark, prepared, freezeOut, resuming, val);
        AbstractModule<Activity, Activity, Float> model = job.wrapped(vit.module());
        model.getParameters(); // compact: decay ranges and group slices are positions in the flat buffer
        // one method per parameter group: layer decay's or FreezeOut's schedules, accumulation behind each method
        optimizers = new FinetuneOptimizers(settings, vit, freezeOut, schedule.warmupSteps(), schedule.totalSteps());
        FloatCriterion criterion = job.criterion(prepared.counts());
        BarrierSegment.Loss loss = () -> DataParallelStep.meanOverGlobalBatch(criterion);
        Head head = Head.classifier(prepared.classes().size());
        return new Model(vit, model, () -> VisionTransformer.blank(config, head), data, schedule.perEpoch(),
                schedule.total(), loss, optimizers.methods(), optimizers.weightDecay(vit, settings.get(WEIGHT_DECAY)));
    }

    @Override
    public void started(long iteration, TrainingScalars scalars, int tasks) {
        job.describe(prepared, images, schedule, vit, tasks + " barrier tasks (the loss of the global batch)");
        spark.sparkContext().setJobGroup("finetune:train", GROUP, false);
        meta = job.metadata();
        monitor = job.monitor(scalars, schedule.total(), schedule.perEpoch(), iteration);
    }

    @Override
    public void segment(long from, long to, double seconds, BarrierSegment.Result result) {
        monitor.segment(from, to, seconds, optimizers.schedules(), settings.get(GRADIENT_ACCUMULATION_STEPS));
        job.carry(monitor);
    }

    @Override
    public void epochEnd(EpochEnd end) {
        last = job.endEpoch(spark, end.epoch(), vit, end.ema(), val, prepared, meta, monitor, end.losses(),
                end.seconds(), end.images(), end.iteration(), GROUP);
        job.carry(monitor);
    }

    @Override
    public FinetuneResult finish(Finish finish) {
        val.unpersist();
        if (!finish.complete()) {
            return new FinetuneResult(finish.losses(), null, null, null, null, null, monitor.history());
        }
        return job.finished(output, finish.losses(), vit, finish.ema().get(), prepared, meta, monitor, last);
    }
}
