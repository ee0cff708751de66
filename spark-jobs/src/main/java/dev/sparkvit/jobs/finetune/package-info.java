/**
 * The {@code finetune} job: a classifier from an SSL encoder (or from scratch). {@link FinetuneConfig} reads
 * conf/finetune.yaml, resolving {@code auto} values from {@link FinetuneRecipe} by the train split's size, into a
 * validated {@link FinetuneSettings}; {@link FinetuneJob} starts the head as a linear probe on frozen features (by default), then
 * trains {@link SupervisedMethod} on {@link dev.sparkvit.jobs.train.BarrierTraining} with
 * {@link FinetuneOptimizers} (layer-wise decay) and the executors' augmentation and mixing
 * ({@link TrainingSamples}), validates live and EMA weights every epoch ({@link FinetuneMonitor}) and writes
 * {@code finetuned.safetensors} and {@code finetuned-ema.safetensors}. Start reading at {@code FinetuneJob#execute}. Uses {@link dev.sparkvit.jobs.train}, {@link dev.sparkvit.jobs.probe},
 * {@link dev.sparkvit.jobs.inference} and {@link dev.sparkvit.jobs.evaluate}; used by the CLI, the demo and
 * {@link dev.sparkvit.jobs.retrain}.
 */
package dev.sparkvit.jobs.finetune;
