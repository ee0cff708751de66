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
 */
public record DemoResult(Path datasetDir, IngestResult ingest, Path pairsPng, Path pretrainDir,
        PretrainResult pretrain) {
}
