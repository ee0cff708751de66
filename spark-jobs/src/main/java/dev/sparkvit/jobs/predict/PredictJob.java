package dev.sparkvit.jobs.predict;

import dev.sparkvit.config.ConfigException;
import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.image.FloatImage;
import dev.sparkvit.data.ingest.FileListing;
import dev.sparkvit.data.ingest.Manifest;
import dev.sparkvit.data.ingest.RawImages;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.jobs.inference.BatchInference;
import dev.sparkvit.jobs.inference.ClassifierWeights;
import dev.sparkvit.jobs.inference.TtaViews;
import dev.sparkvit.provenance.WeightsProvenance;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.apache.spark.sql.functions.col;

/**
 * Distributed batch inference: the classifier broadcast to the executors, images read there (from an ingested
 * dataset's shards, or from a raw folder with ingest's checks), class probabilities averaged over the test-time
 * views, and the top k written as Parquet: {@code OUTPUT/predictions} (path, top_labels, top_probabilities) and, for
 * raw folders, {@code OUTPUT/rejects} (path, reason, detail) for the files that could not be read as images. Every
 * input is accounted for: predictions + rejects = files listed.
 */
public final class PredictJob {
    private static final Logger LOG = LoggerFactory.getLogger(PredictJob.class);
    /** Files per task at most (a task reads its files one at a time). */
    private static final int FILES_PER_TASK = 256;
    private static final int BATCH = 64;
    private static final StructType RESULTS = new StructType()
            .add("path", DataTypes.StringType, false)
            .add("top_labels", DataTypes.createArrayType(DataTypes.StringType, false), true)
            .add("top_probabilities", DataTypes.createArrayType(DataTypes.FloatType, false), true)
            .add("reason", DataTypes.StringType, true)
            .add("detail", DataTypes.StringType, true);

    /**
     * @param model classifier weights file (finetuned*.safetensors)
     * @param input an ingested dataset folder or a folder of image files (local, hdfs://, s3a://)
     * @param split for a dataset input, the split to predict (null: all images)
     * @param output folder for the predictions and rejects tables; must not exist
     * @param topK labels kept per image
     * @param tta test-time views (the identity alone = no TTA)
     */
    public record Settings(java.nio.file.Path model, String input, String split, String output, int topK,
            List<String> tta, ClassifierWeights.Given given, String normalize) {
        /** For a classifier file that records its preset, classes and dataset (sparkvit finetune's). */
        public Settings(java.nio.file.Path model, String input, String split, String output, int topK,
                List<String> tta) {
            this(model, input, split, output, topK, tta, ClassifierWeights.Given.NONE, null);
        }
    }

    /** ImageNet's per-channel mean and standard deviation (timm's IMAGENET_DEFAULT_MEAN and _STD). */
    private static final Normalize IMAGENET = new Normalize(new float[] {0.485f, 0.456f, 0.406f},
            new float[] {0.229f, 0.224f, 0.225f});

    /**
     * The normalisation {@code --normalize} names: {@code imagenet}, {@code dataset:PATH} (that dataset's mean and
     * std), or numbers: {@code mean,std} (every channel) or {@code r,g,b,r,g,b} (means, then stds).
     *
     * @throws ConfigException naming the value
     */
    public static Normalize parseNormalize(SparkSession spark, String spec) {
        if (spec.equalsIgnoreCase("imagenet")) {
            return IMAGENET;
        }
        if (spec.startsWith("dataset:")) {
            return StoredImages.normalization(StoredImages.manifest(spark, spec.substring("dataset:".length())));
        }
        String[] parts = spec.split(",");
        float[] values = new float[parts.length];
        try {
            for (int i = 0; i < parts.length; i++) {
                values[i] = Float.parseFloat(parts[i].strip());
            }
        } catch (NumberFormatException e) {
            values = null;
        }
        if (values == null || values.length != 2 && values.length != 6) {
            throw new ConfigException("--normalize " + spec + " is invalid: expected imagenet, dataset:PATH, "
                    + "mean,std or r,g,b,r,g,b (means, then standard deviations, of pixels in [0, 1])");
        }
        float[] mean = new float[3];
        float[] std = new float[3];
        for (int c = 0; c < 3; c++) {
            mean[c] = values.length == 2 ? values[0] : values[c];
            std[c] = values.length == 2 ? values[1] : values[3 + c];
            if (!Float.isFinite(mean[c]) || !Float.isFinite(std[c]) || std[c] <= 0) {
                throw new ConfigException("--normalize " + spec + " is invalid: every mean must be finite and every "
                        + "standard deviation above 0");
            }
        }
        return new Normalize(mean, std);
    }

    /** Counts of what was written. */
    public record Result(long listed, long predicted, long rejected, String predictions, String rejects) {
    }

    private final Settings settings;
    private final PrintStream console;
    /** {@code --snapshot}: the snapshot of a dataset input to predict (null: the current one). */
    private Long requestedSnapshot;

    public PredictJob(Settings settings, PrintStream console) {
        this.settings = settings;
        this.console = console;
    }

    /** Predicts the dataset input's snapshot {@code id} instead of its current one ({@code --snapshot}). */
    public PredictJob snapshot(Long id) {
        this.requestedSnapshot = id;
        return this;
    }

    public Result execute(SparkSession spark) {
        ClassifierWeights model = ClassifierWeights.load(settings.model(), settings.given());
        if (settings.topK() < 1 || settings.topK() > model.classes().size()) {
            throw new ConfigException("--top-k " + settings.topK() + ": expected 1 to the model's "
                    + model.classes().size() + " classes");
        }
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Configuration hadoop = sc.hadoopConfiguration();
        String predictionsPath = settings.output().replaceAll("/+$", "") + "/predictions";
        String rejectsPath = settings.output().replaceAll("/+$", "") + "/rejects";
        requireAbsent(hadoop, settings.output());
        Normalize normalize = normalization(spark, model);
        Broadcast<ClassifierWeights> shipped = sc.broadcast(model);
        BatchInference inference = new BatchInference(shipped, new TtaViews(settings.tta()), normalize, BATCH);
        List<String> classes = model.classes();
        int k = settings.topK();
        JavaRDD<Row> results;
        long listed;
        FileListing.Listing listing = null;
        boolean dataset = isDataset(hadoop, settings.input());
        if (!dataset && requestedSnapshot != null) {
            throw new ConfigException("--snapshot " + requestedSnapshot + ": --input " + settings.input()
                    + " is a folder of image files, not a dataset; only a dataset has snapshots");
        }
        if (dataset) {
            sc.setJobGroup("predict:dataset", "predict the images of dataset " + settings.input(), false);
            Dataset<Row> images = StoredImages.read(spark, StoredImages.snapshot(spark, settings.input(),
                    requestedSnapshot), settings.split())
                    .selectExpr("source_path", "height", "width", "pixels");
            listed = images.count();
            int size = model.config().imgSize(); // stored images of another size are resized to the model's
            results = images.javaRDD().mapPartitions(rows -> {
                List<Row> out = new ArrayList<>();
                inference.score(rows, (Row row) -> StoredImages.image(row, size))
                        .forEachRemaining(s -> out.add(prediction(s.element().getString(0), s.probabilities(),
                                classes, k)));
                return out.iterator();
            });
        } else {
            if (settings.split() != null) {
                throw new ConfigException("--split " + settings.split() + ": " + settings.input()
                        + " is a folder of image files, not an ingested dataset");
            }
            FileListing.Listing files;
            try {
                files = FileListing.list(spark, settings.input(), FILES_PER_TASK);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + settings.input(), e);
            }
            listing = files;
            listed = files.count();
            RawImages reader = new RawImages(hadoop, model.config().imgSize());
            sc.setJobGroup("predict:files", "read and predict " + listed + " files under " + settings.input(),
                    false);
            results = files.files().javaRDD().mapPartitions(rows -> predictFiles(listed(rows), reader, inference,
                    classes, k));
        }
        if (listed == 0) {
            shipped.destroy();
            if (listing != null) {
                listing.release();
            }
            throw new ConfigException("--input " + settings.input() + " holds no images");
        }
        console.printf("predict: %d %s with %s (%d classes, top %d, %s)%n", listed, dataset ? "stored images"
                : "files", settings.model(), classes.size(), k, new TtaViews(settings.tta()));
        Dataset<Row> all = spark.createDataFrame(results, RESULTS).persist(StorageLevel.MEMORY_AND_DISK());
        try {
            Dataset<Row> predictions = all.filter(col("reason").isNull()).select("path", "top_labels",
                    "top_probabilities");
            Dataset<Row> rejects = all.filter(col("reason").isNotNull()).select("path", "reason", "detail");
            predictions.write().parquet(predictionsPath);
            rejects.write().parquet(rejectsPath);
            long predicted = spark.read().parquet(predictionsPath).count();
            long rejected = spark.read().parquet(rejectsPath).count();
            if (predicted + rejected != listed) {
                throw new IllegalStateException("predict accounting failed: " + listed + " inputs, " + predicted
                        + " predictions and " + rejected + " rejects written");
            }
            LOG.info("stage predict: {} inputs, {} predicted, {} rejected", listed, predicted, rejected);
            return new Result(listed, predicted, rejected, predictionsPath, rejectsPath);
        } finally {
            all.unpersist();
            shipped.destroy();
            if (listing != null) {
                listing.release();
            }
        }
    }

    /** The listing's rows ({@link FileListing#SCHEMA}) as files. */
    private static Iterator<RawImages.Listed> listed(Iterator<Row> rows) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return rows.hasNext();
            }

            @Override
            public RawImages.Listed next() {
                Row row = rows.next();
                return new RawImages.Listed(row.getString(0), row.getLong(1));
            }
        };
    }

    /** Reads each file; rejects become rows at once, images go through the scorer in batches. */
    private static Iterator<Row> predictFiles(Iterator<RawImages.Listed> files, RawImages reader,
            BatchInference inference, List<String> classes, int k) {
        Deque<Row> rejects = new ArrayDeque<>();
        Iterator<RawImages.Read> accepted = new Iterator<>() {
            private RawImages.Read next;

            @Override
            public boolean hasNext() {
                while (next == null && files.hasNext()) {
                    RawImages.Listed file = files.next();
                    RawImages.Read read = reader.read(file.path(), file.length());
                    if (read.image() == null) {
                        rejects.add(RowFactory.create(read.path(), null, null, read.reason(), read.detail()));
                    } else {
                        next = read;
                    }
                }
                return next != null;
            }

            @Override
            public RawImages.Read next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                RawImages.Read read = next;
                next = null;
                return read;
            }
        };
        Iterator<BatchInference.Scored<RawImages.Read>> scored = inference.score(accepted,
                read -> FloatImage.of(read.image()));
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return !rejects.isEmpty() || scored.hasNext() || !rejects.isEmpty();
            }

            @Override
            public Row next() {
                if (!rejects.isEmpty()) {
                    return rejects.poll();
                }
                BatchInference.Scored<RawImages.Read> s = scored.next();
                return prediction(s.element().path(), s.probabilities(), classes, k);
            }
        };
    }

    /** The row of one image: its k most probable classes, most probable first (ties: lower class index first). */
    static Row prediction(String path, float[] probabilities, List<String> classes, int k) {
        Integer[] order = new Integer[probabilities.length];
        for (int c = 0; c < order.length; c++) {
            order[c] = c;
        }
        java.util.Arrays.sort(order, (a, b) -> Float.compare(probabilities[b], probabilities[a]));
        String[] labels = new String[k];
        Float[] values = new Float[k];
        for (int i = 0; i < k; i++) {
            labels[i] = classes.get(order[i]);
            values[i] = probabilities[order[i]];
        }
        return RowFactory.create(path, labels, values, null, null);
    }

    private Normalize normalization(SparkSession spark, ClassifierWeights model) {
        if (settings.normalize() != null) {
            return parseNormalize(spark, settings.normalize());
        }
        String dataset = dev.sparkvit.jobs.inference.RecordedDataset.of(model, settings.model());
        if (dataset == null) {
            throw new ConfigException(settings.model() + " does not record the dataset it was trained on, whose "
                    + "normalisation prediction uses: give --normalize (imagenet for a timm checkpoint trained on "
                    + "ImageNet, dataset:PATH, or mean,std)");
        }
        // the normalisation the classifier trained with: that of the snapshot it records (older files: the current)
        String recorded = model.metadata().get(WeightsProvenance.DATASET_SNAPSHOT);
        Manifest manifest;
        if (recorded == null) {
            manifest = StoredImages.manifest(spark, dataset);
        } else {
            try {
                manifest = StoredImages.manifest(spark, StoredImages.snapshot(spark, dataset,
                        Long.valueOf(recorded)));
            } catch (NumberFormatException e) {
                throw new ConfigException(settings.model() + ": metadata " + WeightsProvenance.DATASET_SNAPSHOT
                        + " = " + recorded + " is not a snapshot id; give --normalize");
            } catch (IllegalArgumentException e) {
                throw new ConfigException(e.getMessage() + "; " + settings.model() + " was trained on that "
                        + "snapshot, whose normalisation predict uses: give --normalize (dataset:PATH, or mean,std)");
            }
        }
        return StoredImages.normalization(manifest);
    }

    private static boolean isDataset(Configuration hadoop, String input) {
        try {
            Path root = new Path(input);
            FileSystem fs = root.getFileSystem(hadoop);
            if (!fs.exists(root)) {
                throw new ConfigException("--input " + input + " does not exist");
            }
            return StoredImages.isDataset(hadoop, input);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + input, e);
        }
    }

    private static void requireAbsent(Configuration hadoop, String output) {
        try {
            Path path = new Path(output);
            if (path.getFileSystem(hadoop).exists(path)) {
                throw new ConfigException("--output " + output + " already exists; predictions are never written "
                        + "over earlier results: choose a new folder");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot check " + output, e);
        }
    }
}
