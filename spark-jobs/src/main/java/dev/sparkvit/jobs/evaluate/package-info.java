/**
 * The {@code evaluate} job: {@link EvaluateJob} scores a finished fine-tuning run's live and EMA classifiers (and a
 * baseline run's) on a labelled split, without and with test-time augmentation, and writes {@code metrics.json},
 * confusion-matrix PNGs and {@code report.html}. {@link ClassificationMetrics} (accuracy, per-class and macro
 * precision/recall/F1, confusion) is also used by {@link dev.sparkvit.jobs.finetune} for validation and by
 * {@link dev.sparkvit.jobs.retrain} to compare candidate and production. Settings come from options
 * ({@code EvaluateJob.Settings}), not YAML. Depends on {@link dev.sparkvit.jobs.inference} and
 * {@link dev.sparkvit.report}.
 */
package dev.sparkvit.jobs.evaluate;
