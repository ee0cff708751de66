package dev.sparkvit.cli;

import static dev.sparkvit.jobs.finetune.FinetuneKeys.DATASET;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.OUTPUT_DIR;
import static dev.sparkvit.jobs.finetune.FinetuneKeys.SSL_PRETRAINED_PATH;
import dev.sparkvit.jobs.finetune.FinetuneConfig;
import dev.sparkvit.jobs.finetune.FinetuneJob;
import dev.sparkvit.jobs.finetune.FinetuneResult;
import dev.sparkvit.jobs.finetune.FinetuneSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code sparkvit finetune}: supervised fine-tuning from a YAML config (or from scratch, the baseline). */
@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = "Fine-tune a classifier on an ingested, labelled dataset: the SSL encoder (or none: from "
                + "scratch) under a linear head, layer-wise LR decay, AdamW warmup + cosine, mixup/cutmix, "
                + "CE/focal/combined loss, EMA, checkpoints. Writes finetuned.safetensors, finetuned-ema.safetensors "
                + "and finetune-curves.png in output_dir.")
final class FinetuneCommand extends SparkCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions options;

    @Mixin
    ResumeOption resume;

    @Mixin
    SnapshotOption snapshot;

    @Option(names = "--ssl-checkpoint", description = "Pretrained encoder: weights file, checkpoint or checkpoints "
            + "folder (overrides model.ssl_pretrained_path).")
    String sslCheckpoint;

    @Option(names = "--scratch", description = "Train from scratch (no pretrained encoder): the baseline.")
    boolean scratch;

    @Override
    public Integer call() {
        List<String> all = new ArrayList<>();
        if (scratch && sslCheckpoint != null) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                    "--scratch and --ssl-checkpoint exclude each other");
        }
        if (scratch) {
            all.add("model.ssl_pretrained_path=null");
        } else if (sslCheckpoint != null) {
            all.add("model.ssl_pretrained_path=" + sslCheckpoint);
        }
        // validated before Spark starts: a wrong key or value costs no cluster time
        dev.sparkvit.config.YamlConfig yaml = options.load(all);
        FinetuneSettings settings = FinetuneConfig.read(yaml);
        if (settings.get(SSL_PRETRAINED_PATH) != null) {
            dev.sparkvit.jobs.probe.ProbeEncoder.check(dev.sparkvit.storage.LocalCopies.of( // a damaged file, named now
                    "model.ssl_pretrained_path", settings.get(SSL_PRETRAINED_PATH)));
        }
        dev.sparkvit.jobs.train.TrainingConfig.requireTrainingImages(yaml, settings.get(DATASET));
        SparkSession spark = startSpark("sparkvit finetune");
        try {
            FinetuneJob job = new FinetuneJob(settings, resume.resume, System.out)
                    .snapshot(snapshot.id(settings.get(DATASET)));
            FinetuneResult r = job.execute(spark);
            System.out.printf("sparkvit finetune: %d iterations; validation accuracy live %.3f%s%n",
                    r.losses().length, r.live().accuracy(), r.ema() == null ? ""
                            : String.format(", EMA %.3f", r.ema().accuracy()));
            String out = settings.get(OUTPUT_DIR);
            System.out.println("  dataset: " + job.data());
            System.out.println("  weights: " + SparkCommand.inRun(out, r.liveWeights()) + (r.emaWeights() == null
                    ? "" : " and " + SparkCommand.inRun(out, r.emaWeights())));
            System.out.println("  curves:  " + SparkCommand.inRun(out, r.curves()));
            System.out.println("  tensorboard: " + dev.sparkvit.storage.Locations.resolve(out, "tensorboard"));
            System.out.println("  next: sparkvit evaluate --run " + settings.get(OUTPUT_DIR));
            return ExitCodes.OK;
        } finally {
            spark.stop();
        }
    }
}
