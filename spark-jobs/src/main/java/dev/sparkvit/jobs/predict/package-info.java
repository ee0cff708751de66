/**
 * The {@code predict} job: {@link PredictJob} broadcasts a classifier, reads images on the executors (an ingested
 * dataset's shards, or a raw folder with ingest's checks) and writes the top-k classes as Parquet
 * ({@code predictions/}) and unreadable files with their reason ({@code rejects/}). Settings come from options
 * ({@code PredictJob.Settings}). Built on {@link dev.sparkvit.jobs.inference}; only the CLI uses it.
 */
package dev.sparkvit.jobs.predict;
