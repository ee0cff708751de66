/**
 * What a weights file records of where it came from ({@link dev.sparkvit.provenance.WeightsProvenance}): the code
 * ({@link dev.sparkvit.provenance.CodeVersion}), a hash of the run's resolved settings, and the dataset snapshot it
 * trained on. Used by pretraining, fine-tuning and retrain's registry versions.
 */
package dev.sparkvit.provenance;
