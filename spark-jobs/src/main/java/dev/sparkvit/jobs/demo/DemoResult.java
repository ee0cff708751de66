package dev.sparkvit.jobs.demo;

import dev.sparkvit.data.ingest.IngestResult;
import dev.sparkvit.jobs.pretrain.PretrainResult;
import java.nio.file.Path;

/**
 * What the demo job produced.
 *
 * @param datasetDir the ingested Parquet dataset
 * @param ingest what the ingest stage did
 * @param pairsPng contact sheet of SimCLR pairs
 * @param pretrainDir the pretraining run's folder (checkpoints, TensorBoard events, curves, weights)
 * @param pretrain the pretraining result with both probes
 * @param finetune fine-tuning from the SSL encoder
 * @param scratch fine-tuning from scratch at the same budget (the baseline)
 * @param evaluation both evaluated on the test split, with and without TTA (report.html)
 */
public record DemoResult(Path datasetDir, IngestResult ingest, Path pairsPng, Path pretrainDir,
        PretrainResult pretrain, dev.sparkvit.jobs.finetune.FinetuneResult finetune,
        dev.sparkvit.jobs.finetune.FinetuneResult scratch, dev.sparkvit.jobs.evaluate.EvaluateJob.Result evaluation) {
}
