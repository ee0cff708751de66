package dev.sparkvit.jobs.demo;

import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.data.ingest.IngestResult;
import dev.sparkvit.data.ingest.Manifest;
import dev.sparkvit.data.pairs.PairPreview;
import dev.sparkvit.engine.Seeds;
import dev.sparkvit.jobs.pretrain.PretrainConfig;
import dev.sparkvit.jobs.evaluate.EvaluateJob;
import dev.sparkvit.jobs.finetune.FinetuneConfig;
import dev.sparkvit.jobs.finetune.FinetuneJob;
import dev.sparkvit.jobs.finetune.FinetuneResult;
import dev.sparkvit.jobs.finetune.FinetuneSettings;
import dev.sparkvit.jobs.pretrain.PretrainJob;
import dev.sparkvit.jobs.pretrain.PretrainResult;
import dev.sparkvit.jobs.pretrain.PretrainSettings;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * End-to-end demo: writes the embedded ten-class image dataset, ingests it into a Parquet dataset (validation,
 * deduplication, manifest; incremental, so a re-run adds nothing), writes a contact sheet of SimCLR pairs, then runs
 * a short SimCLR pretraining of {@code vit_nano_patch4_32} (the pretrain job with conf/pretrain.yaml's defaults and
 * the demo's epochs, batch and learning rate) and reports the linear-probe accuracy of the pretrained encoder
 * against a randomly initialised one; then fine-tunes a classifier from the SSL encoder and one from scratch with
 * the same recipe and budget (conf/finetune.yaml's defaults and the demo's epochs), and evaluates both on the test
 * split, with and without test-time augmentation, in one HTML report.
 */
public final class DemoJob {
    private static final Logger LOG = LoggerFactory.getLogger(DemoJob.class);

    private final DemoSettings settings;
    private final PrintStream console;

    public DemoJob(DemoSettings settings, PrintStream console) {
        this.settings = settings;
        this.console = console;
    }

    public DemoResult execute(SparkSession spark) {
        Path datasetDir = settings.outputDir().resolve("dataset");
        IngestResult ingest = EmbeddedDataset.write(spark, settings.outputDir(), settings.imageSize(),
                settings.imagesPerClass(), settings.seed());
        Manifest manifest = ingest.manifest();
        console.printf("ingest: %d files (%d new, %d already present) -> %s%n", ingest.inputFiles(),
                ingest.stored(), ingest.alreadyPresent(), datasetDir);

        Path pairsPng = settings.outputDir().resolve("pairs.png");
        spark.sparkContext().setJobGroup("demo:pairs", "contact sheet of SimCLR pairs", false);
        int pairs = PairPreview.write(spark, datasetDir.toString(), manifest, Seeds.DEFAULT, 8, 0, pairsPng);
        LOG.info("stage pairs: {} SimCLR pairs -> {}", pairs, pairsPng);

        // a run folder of its own each time: a finished run's folder is never overwritten
        Path runDir = settings.outputDir().resolve("pretrain-" + java.time.LocalDateTime.now().format(
                java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS")));
        PretrainSettings pretrain = PretrainConfig.read(YamlConfig.parse("demo", new StringReader("")).with(List.of(
                // the model takes the demo's image size (the preset's 32 unless --image-size says otherwise)
                "data.dataset=" + datasetDir, "data.img_size=" + settings.imageSize(), "output_dir=" + runDir,
                "training.epochs=" + settings.epochs(), "training.batch_size=" + settings.batchSize(),
                "training.learning_rate=" + settings.learningRate(), "training.warmup_epochs=1",
                "training.seed=" + settings.seed(), "training.probe_every_epochs=" + Math.max(1, settings.epochs() / 2),
                "temperature=0.2")));
        PretrainResult result = new PretrainJob(pretrain, false, console).execute(spark);

        FinetuneResult ssl = finetune(spark, datasetDir, runDir.resolve("finetune-ssl"), result.weights());
        FinetuneResult scratch = finetune(spark, datasetDir, runDir.resolve("finetune-scratch"), null);
        spark.sparkContext().setJobGroup("demo:evaluate", "evaluate both classifiers", false);
        EvaluateJob.Result evaluation = new EvaluateJob(new EvaluateJob.Settings(runDir.resolve("finetune-ssl"),
                runDir.resolve("finetune-scratch"), null, "test", null, runDir.resolve("evaluation")), console)
                .execute(spark);
        return new DemoResult(datasetDir, ingest, pairsPng, runDir, result, ssl, scratch, evaluation);
    }

    /** Fine-tuning with conf/finetune.yaml's defaults, from {@code encoder} or (null) from scratch. */
    private FinetuneResult finetune(SparkSession spark, Path datasetDir, Path out, Path encoder) {
        FinetuneSettings finetune = FinetuneConfig.read(YamlConfig.parse("demo", new StringReader("")).with(List.of(
                "data.dataset=" + datasetDir, "data.img_size=" + settings.imageSize(), "output_dir=" + out,
                "model.ssl_pretrained_path=" + (encoder == null ? "null" : encoder.toString()),
                "training.epochs=" + settings.finetuneEpochs(), "training.batch_size=" + settings.batchSize(),
                "training.warmup_epochs=1", "training.seed=" + settings.seed())));
        return new FinetuneJob(finetune, false, console).execute(spark);
    }
}
