/**
 * {@code make demo}: {@link DemoJob} writes and ingests the embedded dataset ({@link EmbeddedDataset}), writes a
 * contact sheet of SimCLR pairs, then runs {@link dev.sparkvit.jobs.pretrain}, {@link dev.sparkvit.jobs.finetune}
 * (from the SSL encoder and from scratch) and {@link dev.sparkvit.jobs.evaluate} with the demo's
 * {@link DemoSettings}. A composition of the other jobs, with no training logic of its own; only the CLI uses it
 * ({@code EmbeddedDataset} also backs {@code sparkvit bench dataset}).
 */
package dev.sparkvit.jobs.demo;
