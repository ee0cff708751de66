/**
 * Benchmark code, not part of any product job, in the bench module's own jar
 * ({@code bench/target/sparkvit-bench.jar}; the product jar holds none of it, {@code ProductJarTest}): throughput of
 * ingestion and SimCLR pairs ({@link DataBenchmark}), one replica's ViT training step ({@link VitBenchmark},
 * {@link VitStepBenchmark}), the training jobs on the barrier engine ({@link ProductBenchmark}) and sgemm
 * ({@link GemmBenchmark}), written as JSON for bench/report.py ({@link BenchResults}, {@link Measurement}). Run by
 * the bench commands
 * ({@link dev.sparkvit.bench.cli}) and by {@code make bench} (docs/BENCHMARKS.md). No product package may depend on
 * it.
 */
package dev.sparkvit.bench;
