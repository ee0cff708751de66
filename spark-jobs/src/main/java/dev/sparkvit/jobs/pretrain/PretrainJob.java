package dev.sparkvit.jobs.pretrain;

import com.intel.analytics.bigdl.dllib.nn.Sequential;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import dev.sparkvit.checkpoint.CheckpointStore;
import dev.sparkvit.checkpoint.TrainingCheckpoint;
import dev.sparkvit.config.ConfigException;
import dev.sparkvit.data.augment.Augmentations;
import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.ingest.Manifest;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.data.pairs.PairGenerator;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.Activity;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import com.intel.analytics.bigdl.dllib.visualization.TrainSummary;
import dev.sparkvit.engine.BarrierSegment;
import dev.sparkvit.engine.BigDlEngine;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.model.losses.BarrierNtXent;
import dev.sparkvit.model.losses.GlobalNtXent;
import dev.sparkvit.engine.DistributedTraining;
import dev.sparkvit.engine.EmaContainer;
import dev.sparkvit.engine.EpochDataSet;
import dev.sparkvit.engine.Layers;
import dev.sparkvit.engine.NonFiniteTrainingException;
import dev.sparkvit.engine.PartitionedOptimizerState;
import dev.sparkvit.jobs.probe.LinearProbe;
import dev.sparkvit.jobs.train.BarrierTraining;
import dev.sparkvit.jobs.train.NonFiniteSteps;
import dev.sparkvit.jobs.train.RunState;
import dev.sparkvit.jobs.train.TrainingDivergedException;
import dev.sparkvit.jobs.train.Segments;
import dev.sparkvit.jobs.train.TrainingRestarts;
import dev.sparkvit.model.io.VitWeights;
import dev.sparkvit.model.losses.NtXentLoss;
import dev.sparkvit.model.optim.FreezeOutSchedule;
import dev.sparkvit.model.vit.Head;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.model.vit.VitVariant;
import dev.sparkvit.storage.RunFolder;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SimCLR pretraining (Chen et al. 2020) of the ViT on an ingested dataset with DistriOptimizer: fresh pairs of views
 * every epoch (both views in one sample, joined into one batch), NT-Xent, one AdamW (or SGD) per parameter group on
 * warmup + cosine (per-block FreezeOut schedules when enabled, with backward skipped through the frozen prefix),
 * decoupled weight decay outside the no-decay set, global-norm clipping, and an exact EMA of the weights.
 *
 * <p>Training runs in segments that end at every epoch end and checkpoint: between segments the job writes
 * monitoring, probes the EMA encoder every K epochs and writes checkpoints (weights, EMA, every group's optimiser
 * moments gathered from the partitions, progress). A run started with {@code resume} continues from the newest
 * checkpoint and ends with the weights an uninterrupted run would have.
 *
 * <p>An iteration whose loss or averaged gradient is not finite stops the run before its update
 * ({@link TrainingDivergedException}, nothing written after the newest checkpoint) or, with
 * {@code training.non_finite: skip}, is skipped exactly and reported.
 *
 * <p>With {@code training.engine: barrier} the run trains on issue 21's engine instead: {@link SimClrMethod} (global
 * NT-Xent with 2B - 2 negatives per view) on the loop both jobs share, {@link BarrierTraining}, with the same
 * groups, FreezeOut, LARS, skip policy, SyncBatchNorm head and EMA.
 */
public final class PretrainJob {
    private static final Logger LOG = LoggerFactory.getLogger(PretrainJob.class);
    static final String RUN_NAME = "pretrain";

    private final PretrainSettings settings;
    private final boolean resume;
    private final PrintStream console;
    private long stopAfter = Long.MAX_VALUE;
    private UnaryOperator<AbstractModule<?, ?, Float>> wrapModel = UnaryOperator.identity();
    /** The current attempt's training and data, released when it fails. */
    private DistributedTraining attemptTraining;
    private EpochDataSet<?> attemptData;
    /** Epochs finished by earlier attempts of this process, for the curves of a restarted run. */
    private List<PretrainMonitor.Epoch> carriedEpochs = List.of();

    public PretrainJob(PretrainSettings settings, boolean resume, PrintStream console) {
        this.settings = settings;
        this.resume = resume;
        this.console = console;
    }

    /** Stops after the first segment that reaches {@code iteration} (to test resuming; not a user setting). */
    PretrainJob stopAfter(long iteration) {
        this.stopAfter = iteration;
        return this;
    }

    /** Wraps the trained model inside the EMA (to inject faults in tests; not a user setting). */
    PretrainJob wrapModel(UnaryOperator<AbstractModule<?, ?, Float>> wrap) {
        this.wrapModel = wrap;
        return this;
    }

    public PretrainResult execute(SparkSession spark) {
        // a remote output_dir (hdfs://, s3a://) is worked on in a local copy, published after every checkpoint
        RunFolder folder = RunFolder.open(settings.outputDir(), spark.sparkContext().hadoopConfiguration());
        CheckpointStore store = new CheckpointStore(folder.local().resolve("checkpoints"),
                settings.keepCheckpoints());
        return folder.publishing(() -> TrainingRestarts.run(RUN_NAME, settings.restarts(), spark.sparkContext(), store,
                resume, console, start -> settings.barrier() ? new BarrierTraining(console, this::warn)
                        .stopAfter(stopAfter).attempt(spark, folder, store, start, new SimClrMethod(this, settings,
                                spark, folder.local(), console))
                        : attempt(spark, folder, store, start), this::abandonAttempt));
    }

    /**
     * One attempt: the whole run, or its continuation from the newest valid checkpoint (after --resume or a restart).
     * A restart must never write a checkpoint from state that lived on a lost executor, so every segment is checked
     * against the attempt's executors before anything of it is written.
     */
    private PretrainResult attempt(SparkSession spark, RunFolder folder, CheckpointStore store,
            TrainingRestarts.Start attempt) {
        Path output = folder.local();
        TrainingCheckpoint checkpoint = RunState.startingPoint(store, attempt.resume(), folder.location(),
                settings.source(), settings.fingerprint(), settings.onCorrupt(), this::warn);

        Manifest manifest = StoredImages.manifest(spark, settings.dataset());
        // the model's image size is the preset's (or data.img_size), never the dataset's: a 128-px dataset made the
        // 32-px preset a 1,024-token model that ran out of heap on its first iteration
        VitConfig config = settings.model().config();
        sayImageSize(manifest, attempt);
        Normalize normalize = StoredImages.normalization(manifest);
        int replicas = DistributedTraining.replicaCount();
        if (settings.batchSize() % replicas != 0) {
            throw new ConfigException(settings.source() + ": training.batch_size = " + settings.batchSize()
                    + " is not a multiple of the " + replicas + " model replicas (" + BigDlEngine.nodeNumber()
                    + " executors x " + BigDlEngine.coreNumber() + " cores)");
        }

        // two views of each image of a replica's slice of the batch
        dev.sparkvit.jobs.train.MemoryUse.training(settings.preset(), config.imgSize(), config.numTokens(),
                2 * settings.batchSize() / replicas);

        spark.sparkContext().setJobGroup("pretrain:data", "cache the train split", false);
        PairGenerator pairs = new PairGenerator(Augmentations.simclr(config.imgSize(), normalize),
                settings.seed());
        // ordered by id: the order the rows are read in would otherwise decide the training sequence
        EpochDataSet<Row> data = new EpochDataSet<>(StoredImages.read(spark, settings.dataset(), "train")
                .orderBy("id").selectExpr(PairGenerator.COLUMNS).javaRDD(), BigDlEngine.nodeNumber(),
                (epoch, row) -> pairs.sample(row, epoch), settings.seed());
        attemptData = data;
        long images = data.size();
        long perEpoch = (images + settings.batchSize() - 1) / settings.batchSize();
        long total = settings.epochs() * perEpoch;
        long warmup = dev.sparkvit.jobs.train.TrainingConfig.warmupSteps(settings.source(), settings.warmupEpochs(),
                perEpoch, 1, total);
        int negatives = NtXentLoss.negativesPerAnchor(settings.batchSize() / replicas);

        FreezeOutSchedule freezeOut = freezeOut(config, total, warmup);
        Head head = Head.projection(settings.projectionDim(), settings.projectionBatchNorm());
        VisionTransformer vit = freezeOut == null ? VisionTransformer.of(config, head, settings.seed())
                : VisionTransformer.withFreezeOut(config, head, settings.seed(), freezeOut);
        VisionTransformer initial = VisionTransformer.encoderOnly(config, settings.seed());
        Sequential<Float> twoViews = Layers.sequential("simclr");
        twoViews.add(Layers.joinBatch());
        twoViews.add(vit.module());
        EmaContainer ema = new EmaContainer(wrapModel.apply(twoViews), settings.emaDecay(), settings.emaWarmup());
        ema.getParameters(); // compact now: decay ranges and group slices are positions in the flat buffer
        int flatSize = ema.getParameters()._1().nElement();
        Map<String, PartitionedOptimizerState.Slice> slices = RunState.groupSlices(ema, vit);

        PretrainOptimizers optimizers = new PretrainOptimizers(settings, vit, freezeOut, warmup, total);
        DistributedTraining training = DistributedTraining.of(ema, data, new NtXentLoss(settings.temperature()),
                        settings.batchSize())
                .optimMethods(optimizers.methods())
                .clipGradientNorm(settings.clipGradNorm())
                .nonFinite(settings.nonFinite())
                .parameterProcessor(optimizers.processor(vit, settings.weightDecay(), settings.larsEta()))
                .summary(output.resolve("tensorboard"), RUN_NAME, checkpoint != null || attempt.restarted());
        attemptTraining = training;
        training.onSkippedStep(NonFiniteSteps.reporter(RUN_NAME, training, console, total, settings.nonFinite()));
        if (checkpoint != null) {
            RunState.restore(checkpoint, vit, ema);
            training.resume(checkpoint.progress(), PartitionedOptimizerState.scatter(checkpoint.optimizer(), slices,
                    flatSize, BigDlEngine.nodeNumber(), optimizers::method), checkpoint.skippedIterations());
            console.printf("resuming from iteration %d of %d (epoch %d)%n", checkpoint.progress().iterations(),
                    total, checkpoint.progress().epoch() + 1);
        }
        LOG.info("stage pretrain: {} train images, {} iterations of batch {} ({} negatives per view per replica), {}",
                images, total, settings.batchSize(), negatives, vit);
        CollapseMonitor collapse = CollapseMonitor.of(spark, settings.dataset(), normalize, config, head,
                settings.batchSize() / replicas, Math.max(2, settings.warmupEpochs()));
        console.printf("pretrain: %d images, %d epochs of %d iterations, batch %d on %d replicas (%d negatives per "
                + "view, NT-Xent chance %.4f), %s, %s%n", images, settings.epochs(), perEpoch, settings.batchSize(),
                replicas, negatives, collapse.chance(), VitVariant.of(config),
                freezeOut == null ? "FreezeOut off" : "FreezeOut on");

        spark.sparkContext().setJobGroup("pretrain:train", "SimCLR with DistriOptimizer", false);
        long done = training.progress().iterations();
        PretrainMonitor monitor = monitor(dev.sparkvit.jobs.train.TrainingScalars.of(training), total, perEpoch, done);
        long firstIteration = done;
        LinearProbe.Result pretrained = null;
        long epochStartIteration = done - training.progress().recordsInEpoch() / settings.batchSize();
        double epochSeconds = 0;
        long start = System.nanoTime();
        Segments segments = new Segments(perEpoch, total, settings.checkpointEvery());
        while (done < total && done < stopAfter) {
            long next = segments.next(done);
            vit.encoder().setIteration(done);
            long t0 = System.nanoTime();
            try {
                training.trainUntil(next);
            } catch (NonFiniteTrainingException stop) {
                training.close();
                throw NonFiniteSteps.stopped(RUN_NAME, stop, total, settings.nonFinite(), store);
            }
            attempt.executors().requireIntact("during iterations " + (done + 1) + " to " + next);
            double seconds = (System.nanoTime() - t0) / 1e9;
            epochSeconds += seconds;
            monitor.segment(done, next, seconds, optimizers.schedules());
            DistributedTraining.Progress progress = training.progress();
            boolean epochEnd = segments.epochEnd(next);
            if (epochEnd) {
                int epoch = (int) (next / perEpoch) - 1;
                boolean last = next == total;
                if (last) {
                    ema.update(); // fold in the final weights (each forward folded those before its own update)
                }
                float[] losses = training.lossHistory();
                float[] epochLosses = Arrays.copyOfRange(losses, (int) Math.max(0, losses.length - (next
                        - epochStartIteration)), losses.length);
                // images this process trained in the epoch (a resumed run joins an epoch part-way)
                long epochImages = (next - Math.max(epochStartIteration, firstIteration)) * settings.batchSize();
                LinearProbe.Result probe = endEpoch(spark, epoch, last, () -> averagedCopy(ema, config, head),
                        "SimCLR with DistriOptimizer", normalize, vit, monitor, collapse,
                        new EpochFigures(epochLosses, epochSeconds, epochImages, next));
                if (last) {
                    pretrained = probe;
                }
                epochStartIteration = next;
                epochSeconds = 0;
            }
            carriedEpochs = monitor.history();
            if (segments.checkpointDue(next)) {
                TrainingCheckpoint snapshot = RunState.snapshot(progress, vit, ema, training, slices, flatSize,
                        settings.fingerprint());
                // the optimiser state was just gathered from the executors: it is the trained one only if none died
                attempt.executors().requireIntact("by the time the checkpoint of iteration " + next + " was gathered");
                Path written = store.write(snapshot);
                folder.publish();
                LOG.info("stage pretrain: checkpoint {}", folder.describe(written));
            }
            done = next;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        float[] losses = training.lossHistory();
        training.close();
        if (done < total) {
            return new PretrainResult(losses, negatives, null, null, null, null, monitor.history());
        }
        LOG.info("stage pretrain: {} iterations ({} in this process, {} s), loss {} -> {}", losses.length,
                total - firstIteration, String.format("%.1f", seconds), losses[0], losses[losses.length - 1]);
        return finished(spark, output, losses, negatives, pretrained, averagedCopy(ema, config, head), initial,
                normalize, monitor, collapse, Map.of());
    }

    /**
     * The end of a complete run, on either engine: the final probe of the EMA encoder {@code averaged} (unless the
     * last epoch's end ran it: {@code pretrained}), the random encoder's, the curves and pretrained-ema.safetensors
     * (with {@code extra} metadata).
     */
    PretrainResult finished(SparkSession spark, Path output, float[] losses, int negatives,
            LinearProbe.Result pretrained, VisionTransformer averaged, VisionTransformer initial, Normalize normalize,
            PretrainMonitor monitor, CollapseMonitor collapse, Map<String, String> extra) {
        spark.sparkContext().setJobGroup("pretrain:probe", "linear probe", false);
        LinearProbe.Result probe = pretrained != null ? pretrained // else resumed from the final checkpoint
                : LinearProbe.run(spark, averaged, settings.dataset(), normalize);
        LinearProbe.Result random = LinearProbe.run(spark, initial, settings.dataset(), normalize);
        LOG.info("stage probe: EMA encoder {}; random encoder {}", probe, random);
        Path curves = output.resolve("pretrain-curves.png");
        monitor.writeCurves(curves, random, collapse.chance());
        Path weights = output.resolve("pretrained-ema.safetensors");
        Map<String, String> meta = new java.util.LinkedHashMap<>(Map.of("preset", settings.preset(), "seed",
                String.valueOf(settings.seed()), "config", averaged.config().toString(), "kind", "simclr-ema"));
        meta.putAll(extra);
        try {
            VitWeights.save(averaged, weights, meta);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + weights, e);
        }
        return new PretrainResult(losses, negatives, probe, random, weights, curves, monitor.history());
    }

    /** The run's monitor, continuing the epochs an earlier attempt of this process finished up to {@code done}. */
    PretrainMonitor monitor(dev.sparkvit.jobs.train.TrainingScalars scalars, long total, long perEpoch, long done) {
        return new PretrainMonitor(scalars, console, settings.epochs(), total,
                RunState.epochsUpTo(carriedEpochs, PretrainMonitor.Epoch::epoch, perEpoch, done));
    }

    /** Keeps the epochs finished so far for a restarted attempt's curves. */
    void carry(PretrainMonitor monitor) {
        carriedEpochs = monitor.history();
    }

    /** The attempt's epoch data, released if the attempt fails. */
    <E> EpochDataSet<E> attemptData(EpochDataSet<E> data) {
        attemptData = data;
        return data;
    }

    /** The SimCLR module as tests wrap it (fault injection). */
    @SuppressWarnings("unchecked")
    AbstractModule<Activity, Activity, Float> wrapped(AbstractModule<?, ?, Float> module) {
        return (AbstractModule<Activity, Activity, Float>) (AbstractModule<?, ?, ?>) wrapModel.apply(module);
    }

    /** The run's FreezeOut schedule, or null when off; the same on both engines. */
    FreezeOutSchedule freezeOut(VitConfig config, long total, long warmup) {
        PretrainSettings.FreezeOut fo = settings.freezeOut();
        return fo.enabled() ? new FreezeOutSchedule(config.depth(), fo.t0(), fo.scaling(), total, warmup,
                settings.learningRate(), fo.scaleLr()) : null;
    }

    /** Says (once per run, not again after a restart) how the stored images' size relates to the model's. */
    void sayImageSize(Manifest manifest, TrainingRestarts.Start attempt) {
        dev.sparkvit.jobs.train.TrainingConfig.SizeNote sizeNote = dev.sparkvit.jobs.train.TrainingConfig
                .imageSizeNote(settings.source(), settings.model(), settings.dataset(), manifest.storedSize());
        if (sizeNote != null && !attempt.restarted()) {
            if (sizeNote.warning()) {
                warn(sizeNote.line());
            } else {
                console.println(sizeNote.line());
            }
        }
    }

    /** What an epoch's line reports: its losses, seconds, the images this process trained, the iteration it ends at. */
    record EpochFigures(float[] losses, double seconds, long images, long iteration) {
    }

    /**
     * The work at an epoch's end, the same on both engines: the linear probe when due (on the encoder
     * {@code encoder} gives), the epoch line, curves and TensorBoard scalars, and the collapse warning.
     *
     * @return the probe's result, or null when none was due
     */
    LinearProbe.Result endEpoch(SparkSession spark, int epoch, boolean last,
            Supplier<VisionTransformer> encoder, String trainingGroup, Normalize normalize, VisionTransformer vit,
            PretrainMonitor monitor, CollapseMonitor collapse, EpochFigures figures) {
        LinearProbe.Result probe = null;
        if (last || settings.probeEvery() > 0 && (epoch + 1) % settings.probeEvery() == 0) {
            spark.sparkContext().setJobGroup("pretrain:probe", "linear probe, epoch " + (epoch + 1), false);
            probe = LinearProbe.run(spark, encoder.get(), settings.dataset(), normalize);
            spark.sparkContext().setJobGroup("pretrain:train", trainingGroup, false);
        }
        double cosine = collapse.projectionCosine(vit);
        monitor.epoch(epoch, figures.losses(), figures.seconds(), figures.images(), figures.iteration(),
                vit.layerScaleStats(), probe, cosine, collapse.chance());
        String collapsed = collapse.warning(epoch, monitor.history().get(monitor.history().size() - 1).meanLoss(),
                cosine);
        if (collapsed != null) {
            warn(collapsed);
        }
        return probe;
    }

    /** Frees what a failed attempt cached (DLlib's replicas and methods, the epoch data), before a restart. */
    private void abandonAttempt() {
        if (attemptTraining != null) {
            attemptTraining.abandon();
            attemptTraining = null;
        }
        if (attemptData != null) {
            attemptData.originRDD().unpersist(false);
            attemptData = null;
        }
    }

    /** A copy of the model carrying the EMA weights, for probes and the saved result. */
    private static VisionTransformer averagedCopy(EmaContainer ema, VitConfig config, Head head) {
        return RunState.averagedInto(ema, VisionTransformer.of(config, head, 0));
    }

    /** A warning line on the console and in the log. */
    private void warn(String line) {
        LOG.warn(line);
        console.println("warning: " + line);
    }
}
