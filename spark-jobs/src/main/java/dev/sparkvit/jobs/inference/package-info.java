/**
 * Running a trained classifier on the executors, shared by {@link dev.sparkvit.jobs.predict},
 * {@link dev.sparkvit.jobs.evaluate}, {@link dev.sparkvit.jobs.finetune} and {@link dev.sparkvit.jobs.retrain}:
 * {@link ClassifierWeights} (a classifier as plain data loaded from a safetensors file, built once per executor JVM),
 * {@link BatchInference} (class probabilities in batches, averaged over the {@link TtaViews}) and
 * {@link RecordedDataset} (the dataset a weights file records, for its normalisation). Depends on the engine,
 * model, data and config packages, and on no job.
 */
package dev.sparkvit.jobs.inference;
