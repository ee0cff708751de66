package dev.sparkvit.jobs.finetune;

import static dev.sparkvit.jobs.finetune.FinetuneKeys.BATCH_SIZE;
import static dev.sparkvit.jobs.train.TrainingKeys.CHECKPOINT_KEEP;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.DATASET;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.DROP_PATH_RATE;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.EMA;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.EPOCHS;
import static dev.sparkvit.jobs.train.TrainingKeys.FREEZEOUT;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.GRADIENT_ACCUMULATION_STEPS;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.HEAD_INIT;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.INPUT;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.LABEL_FRACTION;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.LAYER_DECAY;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.LEARNING_RATE;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.LOSS;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.MIXING;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.MODEL;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.OUTPUT_DIR;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.RECIPE;
import static dev.sparkvit.jobs.train.TrainingKeys.RESTARTS;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.SEED;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.SEVERITY;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.SSL_PRETRAINED_PATH;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.TTA;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.WARMUP_EPOCHS;

import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import dev.sparkvit.config.ConfigException;
import dev.sparkvit.data.augment.Augmentations;
import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.ingest.Manifest;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.engine.BigDlEngine;
import dev.sparkvit.engine.EpochDataSet;
import dev.sparkvit.engine.FloatCriterion;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.jobs.evaluate.ClassificationMetrics;
import dev.sparkvit.jobs.evaluate.SplitScores;
import dev.sparkvit.jobs.inference.ClassifierWeights;
import dev.sparkvit.jobs.inference.TtaViews;
import dev.sparkvit.jobs.probe.LinearProbe;
import dev.sparkvit.jobs.probe.ProbeEncoder;
import dev.sparkvit.jobs.train.RunState;
import dev.sparkvit.jobs.train.TrainingJob;
import dev.sparkvit.jobs.train.TrainingRestarts;
import dev.sparkvit.jobs.train.TrainingScalars;
import dev.sparkvit.model.losses.ClassWeights;
import dev.sparkvit.model.losses.CrossEntropyLoss;
import dev.sparkvit.model.losses.FocalLoss;
import dev.sparkvit.model.losses.WeightedSumLoss;
import dev.sparkvit.model.optim.FreezeOutSchedule;
import dev.sparkvit.model.vit.Head;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.provenance.WeightsProvenance;
import dev.sparkvit.storage.LocalCopies;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Supervised fine-tuning of the ViT on an ingested, labelled dataset (the training guide's
 * phase 2): the SSL checkpoint's encoder (its projection head dropped) under a new linear classifier, or a fresh
 * model for the from-scratch baseline; drop_path; AdamW per parameter group with layer-wise learning-rate decay on
 * warmup + cosine; mixup and cutmix within each micro-batch on the executors; cross-entropy with label smoothing,
 * focal loss or their combination, with class weights from the training split; global-norm clipping; an EMA of the
 * weights validated beside the live ones every epoch; FreezeOut optional; gradient accumulation; checkpoints and
 * resume as in pretraining. Writes the live and EMA classifiers, the curves and TensorBoard events. A non-finite
 * loss or gradient stops the run or skips the step, as in pretraining.
 */
public final class FinetuneJob extends TrainingJob<FinetuneJob> {
    private static final Logger LOG = LoggerFactory.getLogger(FinetuneJob.class);
    static final String RUN_NAME = "finetune";

    /** As configured until {@link #execute} resolves the auto keys for the dataset ({@link FinetuneRecipe}). */
    private FinetuneSettings settings;
    /** The current attempt's validation split, released when it fails (with the training data). */
    private Dataset<Row> attemptVal;
    /** Epochs finished by earlier attempts of this process, for the curves of a restarted run. */
    private List<FinetuneMonitor.Epoch> carriedEpochs = List.of();

    public FinetuneJob(FinetuneSettings settings, boolean resume, PrintStream console) {
        super(resume, console);
        this.settings = settings;
    }

    @Override
    protected FinetuneJob self() {
        return this;
    }

    public FinetuneResult execute(SparkSession spark) {
        Opened run = open(spark, settings.get(OUTPUT_DIR), settings.get(CHECKPOINT_KEEP), settings.source(),
                settings.get(DATASET));
        Manifest manifest = StoredImages.manifest(spark, data());
        settings = settings.resolvedFor(manifest, BigDlEngine.replicas());
        LOG.info("stage finetune: dataset {}", data());
        console.println("finetune: " + settings.describeRecipe(settings.trainImages(manifest)));
        return run.folder().publishing(() -> TrainingRestarts.run(RUN_NAME, settings.get(RESTARTS),
                spark.sparkContext(), run.store(), resume, console, start -> training().attempt(spark, run.folder(),
                        run.store(), start, new SupervisedMethod(this, settings, spark, run.folder().local())),
                this::abandonAttempt));
    }

    /**
     * What the run reads before building the model: the classes, the architecture (the SSL encoder's, loaded
     * once, or the preset's), the normalisation, the labelled train rows and their class counts, and how the run
     * starts ("from scratch", "from FILE").
     */
    record Prepared(List<String> classes, VitConfig config, Normalize normalize, Dataset<Row> trainRows,
            long[] counts, VisionTransformer ssl, String start) {
    }

    /** The iterations of a run of {@code images} training images: per epoch, in all, and in optimiser steps. */
    record Schedule(long perEpoch, long total, long totalSteps, long warmupSteps) {
    }

    /** The live and (when on) EMA weights' validation at an epoch's end. */
    record Validation(ClassificationMetrics live, ClassificationMetrics ema) {
    }

    /** Reads and checks the dataset, the SSL encoder and the train rows ({@link Prepared}). */
    Prepared prepare(SparkSession spark, TrainingRestarts.Start attempt) {
        Manifest manifest = StoredImages.manifest(spark, data());
        List<String> classes = manifest.classes();
        if (!manifest.labelled() || classes.size() < 2) {
            throw new ConfigException(settings.source() + ": dataset " + settings.get(DATASET) + " has "
                    + (manifest.labelled() ? classes.size() + " class" : "no labels")
                    + "; fine-tuning needs a labelled dataset of at least 2 classes");
        }
        // rows whose label index names no class (or another) would train on wrong labels, or end out of bounds
        dev.sparkvit.data.ingest.ClassIndexCheck.require(spark, data(), classes);
        // the architecture of the SSL encoder when starting from one (its LayerScale and pooling are in its tensors,
        // its image size in its position embedding); from scratch, the preset's image size or data.img_size, never
        // the dataset's stored size: crops are resized to the model's size from whatever size is stored
        VisionTransformer ssl = settings.fromScratch() ? null
                : ProbeEncoder.load(LocalCopies.of("model.ssl_pretrained_path", settings.get(SSL_PRETRAINED_PATH)),
                        settings.preset()); // read once: config and weights
        VitConfig config = (ssl == null ? settings.get(MODEL).config()
                : settings.get(MODEL).matching(ssl.config(), settings.get(SSL_PRETRAINED_PATH),
                        settings.source()))
                .withDropPathRate(settings.get(DROP_PATH_RATE));
        int size = config.imgSize();
        if (!settings.fromScratch() && settings.get(MODEL).imgSize() != null && settings.get(MODEL).imgSize() != size) {
            throw new ConfigException(settings.source() + ": data.img_size = " + settings.get(MODEL).imgSize() + " but "
                    + settings.get(SSL_PRETRAINED_PATH) + " holds an encoder for " + size + "-px images; set "
                    + "data.img_size: " + size + " or leave it unset to take the encoder's");
        }
        dev.sparkvit.jobs.train.TrainingConfig.SizeNote sizeNote = settings.fromScratch()
                ? dev.sparkvit.jobs.train.TrainingConfig.imageSizeNote(settings.source(), settings.get(MODEL),
                        settings.get(DATASET), manifest.storedSize())
                : dev.sparkvit.jobs.train.TrainingConfig.imageSizeNote(settings.source(), "the encoder "
                        + settings.get(SSL_PRETRAINED_PATH) + " takes " + size + "-px images", size,
                        settings.get(DATASET), manifest.storedSize());
        sayImageSize(sizeNote, attempt);
        Normalize normalize = StoredImages.normalization(manifest);
        Dataset<Row> trainRows = labelled(StoredImages.read(spark, data(), "train"));
        long[] counts = trainCounts(trainRows, classes.size());
        if (java.util.Arrays.stream(counts).sum() == 0) {
            throw new ConfigException(settings.source() + ": " + (settings.get(LABEL_FRACTION) < 1
                    ? "data.label_fraction = " + settings.get(LABEL_FRACTION) + " keeps none of the training images of "
                            + "dataset " + settings.get(DATASET) + "; raise it"
                    : "dataset " + settings.get(DATASET) + " has no labelled training images"));
        }
        List<String> empty = new ArrayList<>();
        for (int c = 0; c < counts.length; c++) {
            if (counts[c] == 0) {
                empty.add(classes.get(c));
            }
        }
        if (!empty.isEmpty() && !attempt.restarted()) {
            double fraction = settings.get(LABEL_FRACTION);
            warn(empty.size() + " of " + classes.size() + " classes have no training images" + (fraction < 1
                    ? " at data.label_fraction = " + fraction : "") + " (the model never learns them): "
                    + shortList(empty));
        }
        return new Prepared(classes, config, normalize, trainRows, counts, ssl,
                settings.fromScratch() ? "from scratch" : "from " + settings.get(SSL_PRETRAINED_PATH));
    }

    /**
     * The training samples in {@code partitions} partitions, augmented and mixed on the executors in groups of
     * {@code mixGroup} consecutive samples of a partition (one replica's part of a batch).
     */
    EpochDataSet<Row> trainingData(SparkSession spark, Prepared prepared, int partitions, int mixGroup) {
        spark.sparkContext().setJobGroup("finetune:data", settings.get(INPUT).streamed()
                ? "count the train split's rows per data file" : "cache the train split", false);
        TrainingSamples samples = new TrainingSamples(Augmentations.finetune(settings.get(SEVERITY),
                prepared.config().imgSize(), prepared.normalize()), prepared.classes().size(), settings.get(MIXING),
                mixGroup, settings.get(SEED));
        dev.sparkvit.data.stream.RowFilter filter = settings.get(LABEL_FRACTION) >= 1
                ? dev.sparkvit.data.stream.RowFilter.ALL : new LabelFraction(settings.get(LABEL_FRACTION));
        EpochDataSet<Row> data = EpochDataSet.sequenced(settings.get(INPUT).source(spark, data(),
                TrainingSamples.COLUMNS, filter, partitions, mixGroup, settings.get(SEED), () -> prepared.trainRows()
                        .orderBy("id").selectExpr(TrainingSamples.COLUMNS).javaRDD()), samples);
        return attemptData(data);
    }

    /** The validation split, cached for the attempt. */
    Dataset<Row> validationSplit(SparkSession spark) {
        Dataset<Row> val = StoredImages.read(spark, data(), "val").cache();
        attemptVal = val;
        return val;
    }

    /** The run's iterations for {@code images} training images ({@link Schedule}). */
    Schedule schedule(long images) {
        int k = settings.get(GRADIENT_ACCUMULATION_STEPS);
        int micro = settings.microBatch();
        long perEpoch = (images + micro - 1) / micro;
        long total = settings.get(EPOCHS) * perEpoch;
        long totalSteps = total / k;
        if (totalSteps < 1) {
            throw new ConfigException(settings.source() + ": " + total + " micro-batches make no optimiser step of "
                    + k + "; lower training.gradient_accumulation_steps or raise training.epochs");
        }
        return new Schedule(perEpoch, total, totalSteps, dev.sparkvit.jobs.train.TrainingConfig.warmupSteps(
                settings.source(), settings.get(WARMUP_EPOCHS), perEpoch, k, totalSteps));
    }

    /**
     * The classifier the run trains: the SSL encoder's weights (or fresh ones) under a new head; on a fresh run with
     * head_init: linear_probe, the head fitted on the frozen encoder's features (LP-FT).
     */
    VisionTransformer classifier(SparkSession spark, Prepared prepared, FreezeOutSchedule freezeOut,
            boolean resuming, Dataset<Row> val) {
        VitConfig config = prepared.config();
        int classes = prepared.classes().size();
        Head head = Head.classifier(classes);
        VisionTransformer vit = freezeOut == null ? VisionTransformer.of(config, head, settings.get(SEED))
                : VisionTransformer.withFreezeOut(config, head, settings.get(SEED), freezeOut);
        if (prepared.ssl() != null) {
            copyEncoder(vit, prepared.ssl());
        }
        if (!resuming && settings.get(HEAD_INIT).equals("linear_probe")) {
            spark.sparkContext().setJobGroup("finetune:head", "fit the head on frozen features (LP-FT)", false);
            LinearProbe.HeadFit fit = LinearProbe.fitHead(spark, vit, prepared.trainRows(), val,
                    prepared.normalize(), classes);
            Map<String, Tensor<Float>> named = vit.namedParameters();
            named.get("head.weight").copy(Tensors.of(fit.weight(), classes, config.embedDim()));
            named.get("head.bias").copy(Tensors.of(fit.bias(), classes));
            console.printf("head: logistic regression on the frozen encoder's features (L2 %s, chosen by val "
                    + "cross-entropy %.3f, %s): train accuracy %.3f, val %.3f%n", fit.regParam(), fit.valLoss(),
                    fit.solver(), fit.trainAccuracy(), fit.valAccuracy());
        }
        return vit;
    }

    /** The run's console line and log line; {@code on}: what trains it ("4 replicas", "2 barrier tasks ..."). */
    void describe(Prepared prepared, long images, Schedule schedule, VisionTransformer vit, String on) {
        int k = settings.get(GRADIENT_ACCUMULATION_STEPS);
        LOG.info("stage finetune: {} train images, {} iterations of {} ({} steps of {}), {}, {}", images,
                schedule.total(), settings.microBatch(), schedule.totalSteps(), settings.get(BATCH_SIZE),
                prepared.start(), vit);
        double labelFraction = settings.get(LABEL_FRACTION);
        String fraction = labelFraction < 1 ? " (label fraction " + labelFraction + ")" : "";
        console.printf("finetune %s: %d images%s, %d classes, %d epochs of %d iterations, batch %d%s on %s, "
                        + "layer decay %s, %s loss%s%n", prepared.start(), images, fraction, prepared.classes().size(),
                settings.get(EPOCHS), schedule.perEpoch(), settings.get(BATCH_SIZE), k > 1 ? " (" + k
                        + " micro-batches of " + settings.microBatch() + ")" : "", on, settings.get(LAYER_DECAY), settings.get(LOSS).type(),
                settings.get(MIXING).enabled() ? ", mixup/cutmix" : "");
    }

    /** The run's monitor, continuing the epochs an earlier attempt of this process finished up to {@code done}. */
    FinetuneMonitor monitor(TrainingScalars scalars, long total, long perEpoch, long done) {
        return new FinetuneMonitor(scalars, console, settings.get(EPOCHS), total,
                RunState.epochsUpTo(carriedEpochs, FinetuneMonitor.Epoch::epoch, perEpoch, done));
    }

    /** Keeps the epochs finished so far for a restarted attempt's curves. */
    void carry(FinetuneMonitor monitor) {
        carriedEpochs = monitor.history();
    }

    /**
     * The work at an epoch's end: validation of the live weights ({@code vit}) and, when
     * the EMA is on, of the EMA's ({@code ema} makes them), then the epoch line and scalars.
     */
    Validation endEpoch(SparkSession spark, int epoch, VisionTransformer vit, Supplier<VisionTransformer> ema,
            Dataset<Row> val, Prepared prepared, Map<String, String> meta, FinetuneMonitor monitor, float[] losses,
            double seconds, long images, long iteration, String trainingGroup) {
        List<String> classes = prepared.classes();
        spark.sparkContext().setJobGroup("finetune:validate", "validation, epoch " + (epoch + 1), false);
        ClassificationMetrics live = validate(spark, ClassifierWeights.of(settings.preset(), vit, classes, meta), val,
                prepared.normalize(), classes);
        ClassificationMetrics averaged = settings.get(EMA).enabled() ? validate(spark, ClassifierWeights.of(
                settings.preset(), ema.get(), classes, meta), val, prepared.normalize(), classes) : null;
        spark.sparkContext().setJobGroup("finetune:train", trainingGroup, false);
        monitor.epoch(epoch, losses, seconds, images, iteration, live, averaged);
        return new Validation(live, averaged);
    }

    /**
     * The end of a complete run: finetuned.safetensors (live), finetuned-ema.safetensors (when the
     * EMA is on), the curves; {@code last} is the last epoch's validation (null when resumed from the final
     * checkpoint).
     */
    FinetuneResult finished(Path output, float[] losses, VisionTransformer vit, VisionTransformer ema,
            Prepared prepared, Map<String, String> meta, FinetuneMonitor monitor, Validation last) {
        List<String> classes = prepared.classes();
        Path liveFile = output.resolve("finetuned.safetensors");
        ClassifierWeights.of(settings.preset(), vit, classes, with(meta, "kind", "finetune-live")).save(liveFile);
        Path emaFile = null;
        if (settings.get(EMA).enabled()) {
            emaFile = output.resolve("finetuned-ema.safetensors");
            ClassifierWeights.of(settings.preset(), ema, classes, with(meta, "kind", "finetune-ema")).save(emaFile);
        }
        Path curves = output.resolve("finetune-curves.png");
        if (!monitor.history().isEmpty()) {
            monitor.writeCurves(curves);
        }
        ClassificationMetrics finalLive = last == null ? null : last.live();
        ClassificationMetrics finalEma = last == null ? null : last.ema();
        LOG.info("stage finetune: done; val accuracy live {}, EMA {}", finalLive == null ? "-" : finalLive.accuracy(),
                finalEma == null ? "-" : finalEma.accuracy());
        return new FinetuneResult(losses, finalLive, finalEma, liveFile, emaFile, curves, monitor.history());
    }

    /** Frees what a failed attempt cached (the epoch data, the val split). */
    @Override
    protected void abandonAttempt() {
        super.abandonAttempt();
        if (attemptVal != null) {
            attemptVal.unpersist(false);
            attemptVal = null;
        }
    }

    /** The train images whose labels the run uses: all, or a fixed subset of label_fraction chosen by id. */
    private Dataset<Row> labelled(Dataset<Row> train) {
        return settings.get(LABEL_FRACTION) >= 1 ? train : train.filter(new LabelFraction(settings.get(LABEL_FRACTION))
                .column());
    }

    /** Image count per class index of the images trained on (the class weights and focal alpha). */
    private static long[] trainCounts(Dataset<Row> train, int classes) {
        long[] counts = new long[classes];
        for (Row r : train.groupBy("label_index").count().collectAsList()) {
            counts[r.getInt(0)] = r.getLong(1);
        }
        return counts;
    }

    FloatCriterion criterion(long[] counts) {
        FinetuneSettings.Loss loss = settings.get(LOSS);
        float[] weights = loss.classWeights().equals("balanced") ? balanced(counts, "training.class_weights") : null;
        float[] alpha = loss.focalAlpha().equals("balanced") ? normalisedAlpha(balanced(counts,
                "training.focal_alpha")) : null;
        switch (loss.type()) {
            case "ce":
                return new CrossEntropyLoss(loss.labelSmoothing(), weights);
            case "focal":
                return new FocalLoss(loss.focalGamma(), alpha);
            default:
                return WeightedSumLoss.focalPlusSmoothedCrossEntropy(loss.focalGamma(), alpha, loss.labelSmoothing(),
                        weights);
        }
    }

    private float[] balanced(long[] counts, String key) {
        try {
            return ClassWeights.balanced(counts);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(settings.source() + ": " + key + " = balanced: " + e.getMessage());
        }
    }

    /** Focal alpha as class shares summing to 1 (balanced weights divided by their sum). */
    private static float[] normalisedAlpha(float[] weights) {
        double sum = 0;
        for (float w : weights) {
            sum += w;
        }
        float[] alpha = new float[weights.length];
        for (int c = 0; c < alpha.length; c++) {
            alpha[c] = (float) (weights[c] / sum);
        }
        return alpha;
    }

    /** The pretrained encoder's weights into the classifier's encoder (the head keeps its fresh init). */
    static void loadEncoder(VisionTransformer vit, Path source, String preset, int size) {
        copyEncoder(vit, ProbeEncoder.load(source, preset, size));
    }

    /** {@code encoder}'s weights into the classifier's encoder. */
    private static void copyEncoder(VisionTransformer vit, VisionTransformer encoder) {
        Map<String, Tensor<Float>> target = vit.namedParameters();
        encoder.namedParameters().forEach((name, tensor) -> target.get(name).copy(tensor));
    }

    private static ClassificationMetrics validate(SparkSession spark, ClassifierWeights model, Dataset<Row> val,
            Normalize normalize, List<String> classes) {
        return SplitScores.of(spark, model, val, normalize, TtaViews.none()).metrics(classes);
    }

    Map<String, String> metadata() {
        Map<String, String> meta = new LinkedHashMap<>(settings.fingerprint());
        meta.putAll(WeightsProvenance.of(settings.fingerprint(), data()));
        meta.put("tta_views", String.join(",", settings.get(TTA)));
        meta.put("recipe", settings.get(RECIPE).scale() + ": " + settings.describeRecipe(0).replaceFirst("^.*?: ", ""));
        return meta;
    }

    private static Map<String, String> with(Map<String, String> meta, String key, String value) {
        Map<String, String> copy = new LinkedHashMap<>(meta);
        copy.put(key, value);
        return copy;
    }

    /** FreezeOut's schedule (in optimiser steps), or null when off. */
    FreezeOutSchedule freezeOut(int depth, long totalSteps, long warmupSteps) {
        dev.sparkvit.jobs.train.FreezeOut fo = settings.get(FREEZEOUT);
        return fo.enabled() ? new FreezeOutSchedule(depth, fo.t0(), fo.scaling(), totalSteps, warmupSteps,
                settings.get(LEARNING_RATE), fo.scaleLr()) : null;
    }

    private static String shortList(List<String> names) {
        List<String> shown = names.size() <= 10 ? names : names.subList(0, 10);
        return String.join(", ", shown) + (names.size() > 10 ? " and " + (names.size() - 10) + " more" : "");
    }
}
