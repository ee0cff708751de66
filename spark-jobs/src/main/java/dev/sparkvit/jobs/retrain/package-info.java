/**
 * The {@code retrain} job and the model registry. {@link RetrainJob}, under the registry's lock (taken by the command), ingests new images
 * incrementally, skips the run when data, resolved config and code ({@link dev.sparkvit.provenance.CodeVersion}) match a registered version,
 * else fine-tunes a candidate ({@link dev.sparkvit.jobs.finetune}), scores it against production
 * ({@link dev.sparkvit.jobs.evaluate}) and promotes it only past the gate. {@link ModelRegistry} is the folder of
 * versions and the {@code production} pointer, on a local or Hadoop file system ({@link RegistryStore}); a damaged
 * file is a {@link CorruptRegistryException}. Config: {@link RetrainConfig} into {@link RetrainSettings}. The top
 * of the job graph: only the CLI uses it.
 */
package dev.sparkvit.jobs.retrain;
