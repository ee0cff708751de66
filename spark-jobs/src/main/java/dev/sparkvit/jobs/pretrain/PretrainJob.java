package dev.sparkvit.jobs.pretrain;

import static dev.sparkvit.jobs.train.TrainingKeys.CHECKPOINT_KEEP;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.DATASET;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.EPOCHS;
import static dev.sparkvit.jobs.train.TrainingKeys.FREEZEOUT;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.LEARNING_RATE;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.MODEL;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.OUTPUT_DIR;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.PROBE_EVERY;
import static dev.sparkvit.jobs.train.TrainingKeys.RESTARTS;
import static dev.sparkvit.jobs.pretrain.PretrainKeys.SEED;

import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.ingest.Manifest;
import dev.sparkvit.jobs.probe.LinearProbe;
import dev.sparkvit.jobs.train.BarrierTraining;
import dev.sparkvit.jobs.train.RunState;
import dev.sparkvit.jobs.train.Segments;
import dev.sparkvit.jobs.train.TrainingJob;
import dev.sparkvit.jobs.train.TrainingRestarts;
import dev.sparkvit.model.io.VitWeights;
import dev.sparkvit.model.optim.FreezeOutSchedule;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.provenance.WeightsProvenance;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SimCLR pretraining (Chen et al. 2020) of the ViT on an ingested dataset: fresh pairs of views every epoch, NT-Xent
 * over the whole global batch (2B - 2 negatives per view, {@link SimClrMethod}), one AdamW (or SGD, LARS) per
 * parameter group on warmup + cosine (per-block FreezeOut schedules when enabled, with backward skipped through the
 * frozen prefix), decoupled weight decay outside the no-decay set, global-norm clipping, and an exact EMA of the
 * weights, on the training loop both jobs share ({@link BarrierTraining}).
 *
 * <p>This class keeps what is pretraining's own: the attempt's wiring, the epoch-end work (probe, monitoring, the
 * collapse warning) and the end of a run (final probe, curves, pretrained-ema.safetensors). Segments, checkpoints,
 * resume, restarts and the non-finite guard are the loop's.
 */
public final class PretrainJob extends TrainingJob<PretrainJob> {
    private static final Logger LOG = LoggerFactory.getLogger(PretrainJob.class);
    static final String RUN_NAME = "pretrain";

    private final PretrainSettings settings;
    /** Epochs finished by earlier attempts of this process, for the curves of a restarted run. */
    private List<PretrainMonitor.Epoch> carriedEpochs = List.of();

    public PretrainJob(PretrainSettings settings, boolean resume, PrintStream console) {
        super(resume, console);
        this.settings = settings;
    }

    @Override
    protected PretrainJob self() {
        return this;
    }

    public PretrainResult execute(SparkSession spark) {
        Opened run = open(spark, settings.get(OUTPUT_DIR), settings.get(CHECKPOINT_KEEP), settings.source(),
                settings.get(DATASET));
        LOG.info("stage pretrain: dataset {}", data());
        return run.folder().publishing(() -> TrainingRestarts.run(RUN_NAME, settings.get(RESTARTS),
                spark.sparkContext(), run.store(), resume, console, start -> training().attempt(spark, run.folder(),
                        run.store(), start, new SimClrMethod(this, settings, spark, run.folder().local(), console)),
                this::abandonAttempt));
    }

    /**
     * The end of a complete run: the final probe of the EMA encoder {@code averaged} (unless the
     * last epoch's end ran it: {@code pretrained}), the random encoder's, the curves and pretrained-ema.safetensors
     * (with {@code extra} metadata).
     */
    PretrainResult finished(SparkSession spark, Path output, float[] losses, int negatives,
            LinearProbe.Result pretrained, VisionTransformer averaged, VisionTransformer initial, Normalize normalize,
            PretrainMonitor monitor, CollapseMonitor collapse, Map<String, String> extra) {
        spark.sparkContext().setJobGroup("pretrain:probe", "linear probe", false);
        LinearProbe.Result probe = pretrained != null ? pretrained // else resumed from the final checkpoint
                : LinearProbe.run(spark, averaged, data(), normalize);
        LinearProbe.Result random = LinearProbe.run(spark, initial, data(), normalize);
        LOG.info("stage probe: EMA encoder {}; random encoder {}", probe, random);
        Path curves = output.resolve("pretrain-curves.png");
        monitor.writeCurves(curves, random, collapse.chance());
        Path weights = output.resolve("pretrained-ema.safetensors");
        Map<String, String> meta = new java.util.LinkedHashMap<>(Map.of("preset", settings.preset(), "seed",
                String.valueOf(settings.get(SEED)), "config", averaged.config().toString(), "kind", "simclr-ema"));
        meta.putAll(extra);
        meta.putAll(WeightsProvenance.of(settings.fingerprint(), data()));
        try {
            VitWeights.save(averaged, weights, meta);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + weights, e);
        }
        return new PretrainResult(losses, negatives, probe, random, weights, curves, monitor.history());
    }

    /** The run's monitor, continuing the epochs an earlier attempt of this process finished up to {@code done}. */
    PretrainMonitor monitor(dev.sparkvit.jobs.train.TrainingScalars scalars, long total, long perEpoch, long done) {
        return new PretrainMonitor(scalars, console, settings.get(EPOCHS), total,
                RunState.epochsUpTo(carriedEpochs, PretrainMonitor.Epoch::epoch, perEpoch, done));
    }

    /** Keeps the epochs finished so far for a restarted attempt's curves. */
    void carry(PretrainMonitor monitor) {
        carriedEpochs = monitor.history();
    }

    /** The run's FreezeOut schedule, or null when off. */
    FreezeOutSchedule freezeOut(VitConfig config, long total, long warmup) {
        dev.sparkvit.jobs.train.FreezeOut fo = settings.get(FREEZEOUT);
        return fo.enabled() ? new FreezeOutSchedule(config.depth(), fo.t0(), fo.scaling(), total, warmup,
                settings.get(LEARNING_RATE), fo.scaleLr()) : null;
    }

    /** Says (once per run, not again after a restart) how the stored images' size relates to the model's. */
    void sayImageSize(Manifest manifest, TrainingRestarts.Start attempt) {
        sayImageSize(dev.sparkvit.jobs.train.TrainingConfig.imageSizeNote(settings.source(), settings.get(MODEL),
                settings.get(DATASET), manifest.storedSize()), attempt);
    }

    /** What an epoch's line reports: its losses, seconds, the images this process trained, the iteration it ends at. */
    record EpochFigures(float[] losses, double seconds, long images, long iteration) {
    }

    /**
     * The work at an epoch's end: the linear probe when due (on the encoder
     * {@code encoder} gives), the epoch line, curves and TensorBoard scalars, and the collapse warning.
     *
     * @return the probe's result, or null when none was due
     */
    LinearProbe.Result endEpoch(SparkSession spark, int epoch, boolean last,
            Supplier<VisionTransformer> encoder, String trainingGroup, Normalize normalize, VisionTransformer vit,
            PretrainMonitor monitor, CollapseMonitor collapse, EpochFigures figures) {
        LinearProbe.Result probe = null;
        if (last || settings.get(PROBE_EVERY) > 0 && (epoch + 1) % settings.get(PROBE_EVERY) == 0) {
            spark.sparkContext().setJobGroup("pretrain:probe", "linear probe, epoch " + (epoch + 1), false);
            probe = LinearProbe.run(spark, encoder.get(), data(), normalize);
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
}
