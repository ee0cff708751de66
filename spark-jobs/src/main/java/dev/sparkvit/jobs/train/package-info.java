/**
 * What the two training jobs, {@link dev.sparkvit.jobs.pretrain} and {@link dev.sparkvit.jobs.finetune}, share:
 * config keys read the same way ({@link TrainingConfig}, {@link ModelChoice}), the state saved in and restored from
 * a checkpoint ({@link RunState}), segments between checkpoints ({@link Segments}), restarts after a lost executor
 * ({@link TrainingRestarts}, {@link RestartableFailure}, {@link RestartPolicy}) and the reporting of non-finite steps
 * ({@link NonFiniteSteps}, {@link TrainingDivergedException}), and the one training loop
 * ({@link BarrierTraining}, plugged with a {@link TrainingMethod} per job, checked by {@link BarrierPreflight},
 * monitoring through {@link TrainingScalars}). Depends on {@link dev.sparkvit.engine},
 * {@link dev.sparkvit.checkpoint}, {@link dev.sparkvit.config}, storage, data.ingest and the model packages; only the training jobs and
 * the CLI use it, and it must not import any job.
 */
package dev.sparkvit.jobs.train;
