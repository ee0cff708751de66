package dev.sparkvit.jobs.retrain;

import dev.sparkvit.jobs.finetune.FinetuneKeys;
import dev.sparkvit.checkpoint.CheckpointStore;
import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.data.ingest.DatasetSnapshot;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestResult;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.engine.BigDlEngine;
import dev.sparkvit.jobs.evaluate.ClassificationMetrics;
import dev.sparkvit.jobs.evaluate.EvaluateJob;
import dev.sparkvit.jobs.finetune.FinetuneConfig;
import dev.sparkvit.jobs.finetune.FinetuneJob;
import dev.sparkvit.jobs.finetune.FinetuneSettings;
import dev.sparkvit.jobs.inference.ClassifierWeights;
import dev.sparkvit.lock.FolderLock;
import dev.sparkvit.provenance.CodeVersion;
import dev.sparkvit.provenance.WeightsProvenance;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scheduled retraining (cron, Airflow): with the registry locked, ingest new images incrementally; if the data,
 * the resolved fine-tuning config and the code match a registered version, stop (nothing to learn); otherwise
 * fine-tune a candidate (warm start from the production model's encoder, or the SSL checkpoint), score candidate and
 * production on the same held-out split, register the candidate with its metrics, and switch the production pointer
 * to it only if it beats production by the configured margin.
 */
public final class RetrainJob {
    private static final Logger LOG = LoggerFactory.getLogger(RetrainJob.class);

    /** What a run did. */
    public enum Outcome {
        /** A candidate was registered and is now production. */
        PROMOTED,
        /** A candidate was registered but did not beat production by the margin. */
        REJECTED,
        /** Data, config and code match a registered version: nothing was trained. */
        UNCHANGED
    }

    /**
     * @param version the version registered by this run, or the matching one for {@link Outcome#UNCHANGED}
     * @param candidateScore the gate metric of the candidate (NaN when nothing was trained)
     * @param productionScore the gate metric of the previous production model on the same images (NaN if none)
     */
    public record Result(Outcome outcome, String version, String production, double candidateScore,
            double productionScore, long newImages) {
    }

    private final RetrainSettings settings;
    private final PrintStream console;

    public RetrainJob(RetrainSettings settings, PrintStream console) {
        this.settings = settings;
        this.console = console;
    }

    /** Takes the registry's lock, runs, and releases it. */
    public Result execute(SparkSession spark) {
        ModelRegistry registry = ModelRegistry.open(settings.registry(), spark.sparkContext().hadoopConfiguration());
        try (FolderLock lock = registry.lock(this::warn)) {
            return execute(spark, lock);
        }
    }

    /** Runs with the registry's lock already held (the CLI takes it before Spark starts). */
    public Result execute(SparkSession spark, FolderLock lock) {
        ModelRegistry registry = ModelRegistry.open(settings.registry(), spark.sparkContext().hadoopConfiguration());
        if (!lock.folder().equals(registry.location())) {
            throw new IllegalArgumentException("the lock " + lock.location() + " is not registry "
                    + registry.location() + "'s");
        }
        // a damaged pointer or production version stops the run before anything is ingested or trained
        registry.check(this::warn);
        return run(spark, registry, lock);
    }

    private void warn(String line) {
        LOG.warn(line);
        console.println("retrain: warning: " + line);
    }

    private Result run(SparkSession spark, ModelRegistry registry, FolderLock lock) {
        spark.sparkContext().setJobGroup("retrain:ingest", "incremental ingest of " + settings.input(), false);
        boolean exists = StoredImages.isDataset(spark.sparkContext().hadoopConfiguration(), settings.dataset());
        IngestResult ingest = new IngestJob(IngestSettings.defaults(settings.input(), settings.dataset())
                .withStoredSize(settings.storedSize()).withIncremental(exists),
                line -> console.println("retrain: " + line))
                .execute(spark);
        console.printf("retrain: ingest %d files, %d new images, %d already present, %d quarantined%n",
                ingest.inputFiles(), ingest.stored(), ingest.alreadyPresent(), ingest.quarantined());
        // the snapshot the ingest left: the candidate trains and is evaluated on exactly it (recorded in version.json)
        DatasetSnapshot data = StoredImages.snapshot(spark, settings.dataset(), null);
        String fingerprint = dataFingerprint(spark, data, ingest.manifest().classes());

        FinetuneSettings base = finetuneSettings(null, settings.workDir().resolve("pending"));
        Map<String, String> resolved = new LinkedHashMap<>(base.resolvedFor(ingest.manifest(),
                BigDlEngine.replicas()).fingerprint());
        resolved.remove("ssl_pretrained_path"); // the warm start follows production; it is not part of the run key
        String code = CodeVersion.current();
        String key = sha256(fingerprint + "\n" + resolved + "\n" + code);
        Optional<String> same = registry.findByKey(key);
        Optional<String> production = registry.production();
        if (same.isPresent()) {
            console.printf("retrain: nothing to do: data, config and code match version %s; production stays %s%n",
                    same.get(), production.orElse("(none)"));
            return new Result(Outcome.UNCHANGED, same.get(), production.orElse(null), Double.NaN, Double.NaN,
                    ingest.stored());
        }

        // the production model's files, read where they are (a local registry) or from a local copy (HDFS)
        Path cache = settings.workDir().resolve("registry-cache");
        boolean fromProduction = settings.warmStart().equals("production") && production.isPresent();
        Path warmStart = fromProduction ? modelFile(registry.localModelDir(production.get(), cache))
                : base.get(FinetuneKeys.SSL_PRETRAINED_PATH) == null ? null
                : dev.sparkvit.storage.LocalCopies.of("model.ssl_pretrained_path",
                        base.get(FinetuneKeys.SSL_PRETRAINED_PATH));
        // a copy is read, the original named: version.json names the registry's file or the SSL weights as given
        String warmStartShown = warmStart == null ? null : !fromProduction ? base.get(FinetuneKeys.SSL_PRETRAINED_PATH)
                : registry.remote() ? registry.versionLocation(production.get()) + "/" + warmStart.getFileName()
                : warmStart.toString();
        Path runDir = settings.workDir().resolve("candidate-" + key.substring(0, 16));
        FinetuneSettings finetune = finetuneSettings(warmStart, runDir);
        boolean trained = Files.isRegularFile(runDir.resolve("finetuned.safetensors"));
        boolean resume = !trained && !new CheckpointStore(runDir.resolve("checkpoints"), 1).list().isEmpty();
        console.printf("retrain: fine-tune %s (warm start: %s)%s%n", runDir, warmStart == null ? "scratch"
                : warmStart, trained ? ": already trained by an earlier run" : resume ? ": resuming" : "");
        if (!trained) { // a resumed candidate reads the snapshot its checkpoints record: the same images (same key)
            new FinetuneJob(finetune, resume, console).snapshot(resume ? null : data.id()).execute(spark);
        }

        // production is scored beside the candidate on the same images, unless it predates a class the data now has
        Path production0 = production.map(v -> registry.localModelDir(v, cache)).orElse(null);
        if (production0 != null && !ClassifierWeights.load(modelFile(production0)).classes()
                .equals(ingest.manifest().classes())) {
            console.printf("retrain: production %s knows other classes than the dataset's %s; the candidate is "
                    + "promoted without a comparison%n", production.get(), ingest.manifest().classes());
            production0 = null;
            production = Optional.empty();
        }
        EvaluateJob.Result evaluation = new EvaluateJob(new EvaluateJob.Settings(runDir, production0,
                settings.dataset(), settings.split(), finetune.get(FinetuneKeys.TTA), runDir.resolve("evaluation")),
                console)
                .snapshot(data.id()).execute(spark);
        ClassificationMetrics candidate = variant(evaluation, settings.variant());
        ClassificationMetrics previous = production.isPresent() ? variant(evaluation, "baseline "
                + settings.variant()) : null;
        double candidateScore = score(candidate);
        double productionScore = previous == null ? Double.NaN : score(previous);
        boolean promote = previous == null || candidateScore > productionScore + settings.minImprovement();

        Map<String, Object> info = new LinkedHashMap<>();
        info.put("key", key);
        info.put("status", promote ? "promoted" : "rejected");
        info.put("metric", settings.metric() + " (" + settings.variant() + ", " + settings.split() + ")");
        info.put("candidate_score", candidateScore);
        info.put("production_version", production.orElse(null));
        info.put("production_score", Double.isNaN(productionScore) ? null : productionScore);
        info.put("min_improvement", settings.minImprovement());
        info.put("evaluated_images", evaluation.images());
        info.put("data_fingerprint", fingerprint);
        info.put("dataset", settings.dataset());
        info.put("dataset_snapshot", data.id());
        info.put("warm_start", warmStartShown);
        info.put("config", resolved);
        info.put("code_version", code);
        List<Path> files = new ArrayList<>();
        for (String name : List.of("finetuned.safetensors", "finetuned-ema.safetensors", "finetune-curves.png")) {
            if (Files.isRegularFile(runDir.resolve(name))) {
                files.add(runDir.resolve(name));
            }
        }
        files.add(evaluation.metrics());
        files.add(evaluation.report());
        lock.ensureHeld(); // on HDFS: the lease is current (a run that lost it changes nothing)
        String version = registry.register(files, info);
        if (promote) {
            lock.ensureHeld();
            registry.promote(version);
        }
        LOG.info("stage retrain: {} {} ({} {} against production {} {})", version, promote ? "promoted"
                : "rejected", settings.metric(), candidateScore, production.orElse("-"), productionScore);
        console.printf("retrain: %s %s: %s %.4f against %s%n", version, promote ? "promoted to production"
                : "registered, not promoted", settings.metric(), candidateScore, previous == null
                ? "no production model" : String.format("%.4f of %s + margin %.4f", productionScore,
                production.get(), settings.minImprovement()));
        return new Result(promote ? Outcome.PROMOTED : Outcome.REJECTED, version,
                registry.production().orElse(null), candidateScore, productionScore, ingest.stored());
    }

    private FinetuneSettings finetuneSettings(Path warmStart, Path output) {
        List<String> sets = new ArrayList<>(settings.finetuneOverrides());
        sets.add("data.dataset=" + settings.dataset());
        // file: URIs: both are on the driver's disk, and a path without a scheme would be on the cluster's default
        // file system (HDFS on YARN), where the candidate run would land while retrain looks for it here
        sets.add("output_dir=" + output.toAbsolutePath().toUri());
        if (warmStart != null) {
            sets.add("model.ssl_pretrained_path=" + warmStart.toAbsolutePath().toUri());
        }
        // RetrainConfig checked this config, and that it produces the gate's variant, before Spark started
        return FinetuneConfig.read(YamlConfig.load(settings.finetuneConfig()).with(sets));
    }

    /** The production model's file to warm-start from: the EMA weights when present. */
    private static Path modelFile(Path versionDir) {
        Path ema = versionDir.resolve("finetuned-ema.safetensors");
        return Files.isRegularFile(ema) ? ema : versionDir.resolve("finetuned.safetensors");
    }

    private static ClassificationMetrics variant(EvaluateJob.Result evaluation, String name) {
        ClassificationMetrics metrics = evaluation.variants().get(name);
        if (metrics == null) {
            throw new IllegalStateException("evaluation has no variant '" + name + "' (it has "
                    + evaluation.variants().keySet() + ")");
        }
        return metrics;
    }

    private double score(ClassificationMetrics metrics) {
        return settings.metric().equals("accuracy") ? metrics.accuracy() : metrics.macroF1();
    }

    /**
     * The identity of the stored data of {@code data}: SHA-256 over the image count, order-independent sums of two
     * 60-bit slices of the images' content hashes, and the class list. Neither the manifest nor the snapshot id can
     * serve: an ingest that stores no new image but quarantines a new file still commits a snapshot with new
     * accounting, and the data is the same (the snapshot is recorded beside the key, as provenance).
     */
    private static String dataFingerprint(SparkSession spark, DatasetSnapshot data, List<String> classes) {
        org.apache.spark.sql.Column hash = org.apache.spark.sql.functions.col("hash");
        org.apache.spark.sql.Row r = StoredImages.read(spark, data, null).agg(
                org.apache.spark.sql.functions.count(hash),
                org.apache.spark.sql.functions.sum(org.apache.spark.sql.functions.conv(
                        org.apache.spark.sql.functions.substring(hash, 1, 15), 16, 10).cast("decimal(38,0)")),
                org.apache.spark.sql.functions.sum(org.apache.spark.sql.functions.conv(
                        org.apache.spark.sql.functions.substring(hash, 16, 15), 16, 10).cast("decimal(38,0)")))
                .first();
        return sha256(r.get(0) + "/" + r.get(1) + "/" + r.get(2) + "/" + classes);
    }

    static String sha256(String text) {
        return WeightsProvenance.sha256(text);
    }
}
