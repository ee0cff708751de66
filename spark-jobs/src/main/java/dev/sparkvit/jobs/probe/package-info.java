/**
 * The linear probe: frozen encoder features computed on the executors and a multinomial logistic regression
 * (MLlib L-BFGS) on centred, scaled features ({@link LinearProbe}, {@link CentredLogisticRegression}), for an encoder
 * loaded from a weights file, a checkpoint or a checkpoints folder ({@link ProbeEncoder}). Used by
 * {@link dev.sparkvit.jobs.pretrain} (probe accuracy), {@link dev.sparkvit.jobs.finetune} (the head's start) and the
 * {@code linear-probe} command; it depends on no other job.
 */
package dev.sparkvit.jobs.probe;
