/**
 * Image data helpers above the data sub-packages. {@link dev.sparkvit.data.SyntheticImageFolder} writes the embedded
 * ten-class dataset in ImageFolder layout (the demo's input, the benchmarks' and many tests' fixtures);
 * {@link ClassificationSamples} turns stored images into normalised DLlib samples (used today only by a test).
 * The pipeline itself lives in the sub-packages: {@link dev.sparkvit.data.image} (decoding),
 * {@link dev.sparkvit.data.ingest} (the ingest job and the stored dataset), {@link dev.sparkvit.data.augment} and
 * {@link dev.sparkvit.data.pairs}. Used by {@link dev.sparkvit.jobs.demo} and the bench module
 * ({@code dev.sparkvit.bench}).
 */
package dev.sparkvit.data;
