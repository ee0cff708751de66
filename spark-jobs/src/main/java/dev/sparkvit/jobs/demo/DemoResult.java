package dev.sparkvit.jobs.demo;

import dev.sparkvit.data.ingest.IngestResult;
import java.nio.file.Path;

/**
 * What the demo job produced.
 *
 * @param datasetDir the ingested Parquet dataset
 * @param ingest what the ingest stage did
 * @param trainImages images in the train split the model trained on
 * @param iterationLosses training loss of every iteration, in order
 * @param epochMeanLosses mean iteration loss of each epoch
 * @param pairsPng contact sheet of SimCLR pairs
 * @param tensorboardDir TensorBoard event files of the run
 */
public record DemoResult(Path datasetDir, IngestResult ingest, long trainImages, float[] iterationLosses,
        float[] epochMeanLosses, Path pairsPng, Path tensorboardDir) {
}
