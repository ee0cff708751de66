/**
 * Training checkpoints on disk: {@link dev.sparkvit.checkpoint.CheckpointStore} keeps a folder of {@code iter-N}
 * checkpoints (a safetensors file and its SHA-256, written atomically, verified on load, pruned without deleting
 * corrupt ones), and {@link TrainingCheckpoint} is what one holds (progress, weights, EMA, optimiser history, run
 * settings). A damaged one is a {@link CorruptCheckpointException}. It depends on {@link dev.sparkvit.engine}
 * ({@code TrainingProgress}) and {@link dev.sparkvit.model.io} only; the training jobs use it through
 * {@link dev.sparkvit.jobs.train.RunState}, which maps a run onto a checkpoint.
 */
package dev.sparkvit.checkpoint;
