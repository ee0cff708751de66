package dev.sparkvit.jobs.evaluate;

import dev.sparkvit.config.ConfigException;
import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.ingest.DatasetSnapshot;
import dev.sparkvit.data.ingest.Manifest;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.jobs.inference.ClassifierWeights;
import dev.sparkvit.jobs.inference.TtaViews;
import dev.sparkvit.report.ConfusionMatrixChart;
import dev.sparkvit.report.HtmlReport;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evaluates a fine-tuning run (and optionally a baseline run, for example the from-scratch one) on a labelled split:
 * the live and the EMA classifier, each without and with test-time augmentation. Writes {@code metrics.json}
 * (accuracy, macro-F1, per-class precision/recall/F1, confusion, loss per variant), one confusion-matrix PNG per
 * variant, and {@code report.html}, one self-contained page with the tables, the confusion matrices and the
 * training curves.
 */
public final class EvaluateJob {
    private static final Logger LOG = LoggerFactory.getLogger(EvaluateJob.class);

    /**
     * @param run fine-tuning output folder (finetuned.safetensors, optionally finetuned-ema.safetensors)
     * @param baseline another run folder to report beside it, or null
     * @param dataset dataset folder, or null for the one the run trained on
     * @param split the labelled split evaluated ("test" by default)
     * @param tta test-time views, or null for the run's own (the identity alone = no TTA)
     * @param output where the metrics and report go
 * @param runName how the report names the run (its place, when {@code run} is the working copy of a remote one)
 * @param baselineName how the report names the baseline, or null
     */
    public record Settings(Path run, Path baseline, String dataset, String split, List<String> tta, Path output,
            String runName, String baselineName) {
        /** Settings whose run and baseline are named by their local paths. */
        public Settings(Path run, Path baseline, String dataset, String split, List<String> tta, Path output) {
            this(run, baseline, dataset, split, tta, output, String.valueOf(run),
                    baseline == null ? null : baseline.toString());
        }
    }

    /** What was written, and the metrics of every variant. */
    public record Result(Map<String, ClassificationMetrics> variants, Path metrics, Path report, long images) {
    }

    private final Settings settings;
    private final PrintStream console;
    /** {@code --snapshot}: the dataset snapshot to evaluate on (null: the current one). */
    private Long requestedSnapshot;

    public EvaluateJob(Settings settings, PrintStream console) {
        this.settings = settings;
        this.console = console;
    }

    /** Evaluates on the dataset's snapshot {@code id} instead of its current one ({@code --snapshot}). */
    public EvaluateJob snapshot(Long id) {
        this.requestedSnapshot = id;
        return this;
    }

    /** The classifiers of a run folder: "live", then "ema" when present. */
    public static Map<String, ClassifierWeights> models(Path run) {
        Path live = run.resolve("finetuned.safetensors");
        if (!Files.isRegularFile(live)) {
            throw new ConfigException(run + " has no finetuned.safetensors: is it the output_dir of a finished "
                    + "sparkvit finetune run?");
        }
        Map<String, ClassifierWeights> models = new LinkedHashMap<>();
        models.put("live", ClassifierWeights.load(live));
        Path ema = run.resolve("finetuned-ema.safetensors");
        if (Files.isRegularFile(ema)) {
            models.put("ema", ClassifierWeights.load(ema));
        }
        return models;
    }

    public Result execute(SparkSession spark) {
        Map<String, ClassifierWeights> main = models(settings.run());
        Map<String, ClassifierWeights> baseline = settings.baseline() == null ? Map.of()
                : models(settings.baseline());
        ClassifierWeights reference = main.get("live");
        String dataset = settings.dataset() != null ? settings.dataset()
                : dev.sparkvit.jobs.inference.RecordedDataset.of(reference,
                        settings.run().resolve("finetuned.safetensors"));
        if (dataset == null) {
            throw new ConfigException(settings.runName() + " does not record its dataset: give --dataset");
        }
        DatasetSnapshot data = StoredImages.snapshot(spark, dataset, requestedSnapshot);
        Manifest manifest = StoredImages.manifest(spark, data);
        for (ClassifierWeights model : concat(main, baseline)) {
            if (!model.classes().equals(manifest.classes())) {
                throw new ConfigException("the classifier's classes " + model.classes() + " differ from dataset "
                        + dataset + "'s " + manifest.classes());
            }
        }
        // rows whose label index names no class (or another) would be scored against wrong labels, or end out of
        // bounds
        dev.sparkvit.data.ingest.ClassIndexCheck.require(spark, data, manifest.classes());
        for (ClassifierWeights model : concat(main, baseline)) {
            if (model.config().imgSize() != manifest.storedSize()) {
                // each classifier gets the stored images resized to its own size (SplitScores)
                console.printf("image size: dataset %s stores %d-px images; a classifier takes %d px: its images are "
                        + "resized to %d px%n", dataset, manifest.storedSize(), model.config().imgSize(),
                        model.config().imgSize());
                break;
            }
        }
        List<String> views = settings.tta() != null ? settings.tta()
                : List.of(reference.metadata().getOrDefault("tta_views", "identity").split(","));
        TtaViews tta = new TtaViews(views);
        boolean withTta = !views.equals(List.of("identity"));
        Normalize normalize = StoredImages.normalization(manifest);
        Dataset<Row> images = StoredImages.read(spark, data, settings.split()).cache();
        long count = images.count();
        if (count == 0) {
            throw new ConfigException("dataset " + dataset + " has no images in split '" + settings.split() + "'");
        }
        console.printf("evaluate: %d %s images of %s, %s%n", count, settings.split(), data,
                withTta ? "TTA views " + tta : "no TTA");

        Map<String, ClassificationMetrics> variants = new LinkedHashMap<>();
        score(spark, "", main, images, normalize, tta, withTta, variants);
        score(spark, "baseline ", baseline, images, normalize, tta, withTta, variants);
        images.unpersist();

        Path out = settings.output();
        Map<String, Path> confusions = new LinkedHashMap<>();
        variants.forEach((name, metrics) -> {
            Path png = out.resolve("confusion-" + name.replaceAll("[^a-z0-9]+", "-") + ".png");
            ConfusionMatrixChart.write(metrics.classNames(), metrics.confusion(), "Confusion: " + name + " ("
                    + settings.split() + ")", png);
            confusions.put(name, png);
        });
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("run", settings.runName());
        extra.put("baseline", settings.baselineName());
        extra.put("dataset", dataset);
        extra.put("dataset_snapshot", data.id());
        extra.put("split", settings.split());
        extra.put("tta_views", views);
        extra.put("ssl_pretrained_path", reference.metadata().get("ssl_pretrained_path"));
        Path metricsFile = out.resolve("metrics.json");
        ClassificationMetrics.writeJson(variants, extra, metricsFile);
        Path report = out.resolve("report.html");
        writeReport(report, data.toString(), count, views, variants, confusions);
        LOG.info("stage evaluate: {} variants on {} images; {}", variants.size(), count, report);
        return new Result(variants, metricsFile, report, count);
    }

    private void score(SparkSession spark, String prefix, Map<String, ClassifierWeights> models, Dataset<Row> images,
            Normalize normalize, TtaViews tta, boolean withTta, Map<String, ClassificationMetrics> variants) {
        for (Map.Entry<String, ClassifierWeights> model : models.entrySet()) {
            List<String> classes = model.getValue().classes();
            String name = prefix + model.getKey();
            spark.sparkContext().setJobGroup("evaluate:" + name, "evaluate " + name, false);
            variants.put(name, SplitScores.of(spark, model.getValue(), images, normalize, TtaViews.none())
                    .metrics(classes));
            console.printf("  %-18s %s%n", name, line(variants.get(name)));
            if (withTta) {
                spark.sparkContext().setJobGroup("evaluate:" + name + "+tta", "evaluate " + name + " with TTA",
                        false);
                variants.put(name + "+tta", SplitScores.of(spark, model.getValue(), images, normalize, tta)
                        .metrics(classes));
                console.printf("  %-18s %s%n", name + "+tta", line(variants.get(name + "+tta")));
            }
        }
    }

    private static String line(ClassificationMetrics m) {
        return String.format(Locale.ROOT, "accuracy %.3f  macro-F1 %.3f  loss %.3f", m.accuracy(), m.macroF1(),
                m.meanLoss());
    }

    private void writeReport(Path file, String dataset, long count, List<String> views,
            Map<String, ClassificationMetrics> variants, Map<String, Path> confusions) {
        HtmlReport html = new HtmlReport("sparkvit evaluation: " + settings.runName().replaceAll("/+$", "")
                .replaceAll(".*/", ""));
        html.paragraph("Run " + settings.runName() + (settings.baseline() == null ? "" : ", baseline "
                + settings.baselineName()) + ". Dataset " + dataset + ", split '" + settings.split() + "', " + count
                + " images. Test-time augmentation: " + String.join(", ", views) + " (mean of the views' class "
                + "probabilities). 'live' is the final weights, 'ema' their exponential moving average.");
        List<List<String>> rows = new ArrayList<>();
        variants.forEach((name, m) -> rows.add(List.of(name, f(m.accuracy()), f(m.macroF1()), f(m.meanLoss()))));
        html.table("Summary", List.of("variant", "accuracy", "macro-F1", "loss"), rows);
        String best = best(variants, "");
        if (settings.baseline() != null) {
            String bestBaseline = best(variants, "baseline ");
            double gain = variants.get(best).accuracy() - variants.get(bestBaseline).accuracy();
            html.paragraph(String.format(Locale.ROOT, "Best of the run: %s, accuracy %.3f; best of the baseline: "
                    + "%s, accuracy %.3f (%+.1f points).", best, variants.get(best).accuracy(), bestBaseline,
                    variants.get(bestBaseline).accuracy(), 100 * gain));
        }
        List<List<String>> perClass = new ArrayList<>();
        for (ClassificationMetrics.ClassScore s : variants.get(best).perClass()) {
            perClass.add(List.of(s.name(), f(s.precision()), f(s.recall()), f(s.f1()), String.valueOf(s.support())));
        }
        html.table("Per class: " + best, List.of("class", "precision", "recall", "F1", "support"), perClass);
        html.heading("Confusion matrices");
        confusions.forEach((name, png) -> html.image(name, png));
        html.heading("Training curves");
        addCurves(html, settings.run(), "run");
        if (settings.baseline() != null) {
            addCurves(html, settings.baseline(), "baseline");
        }
        html.write(file);
    }

    private static void addCurves(HtmlReport html, Path run, String label) {
        Path curves = run.resolve("finetune-curves.png");
        if (Files.isRegularFile(curves)) {
            html.image(label + ": " + curves, curves);
        } else {
            html.paragraph(label + ": no finetune-curves.png in " + run);
        }
    }

    /** The variant of highest accuracy among those named with {@code prefix} (the run's own: no "baseline "). */
    private static String best(Map<String, ClassificationMetrics> variants, String prefix) {
        String best = null;
        for (Map.Entry<String, ClassificationMetrics> v : variants.entrySet()) {
            boolean mine = prefix.isEmpty() ? !v.getKey().startsWith("baseline ") : v.getKey().startsWith(prefix);
            if (mine && (best == null || v.getValue().accuracy() > variants.get(best).accuracy())) {
                best = v.getKey();
            }
        }
        return best;
    }

    private static String f(double value) {
        return Double.isFinite(value) ? String.format(Locale.ROOT, "%.3f", value) : "-";
    }

    private static List<ClassifierWeights> concat(Map<String, ClassifierWeights> a, Map<String, ClassifierWeights> b) {
        List<ClassifierWeights> all = new ArrayList<>(a.values());
        all.addAll(b.values());
        return all;
    }
}
