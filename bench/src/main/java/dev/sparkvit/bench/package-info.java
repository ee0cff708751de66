/**
 * Benchmark and prototype code, not part of any product job, in the bench module's own jar
 * ({@code bench/target/sparkvit-bench.jar}; the product jar holds none of it, {@code ProductJarTest}): throughput of
 * ingestion and SimCLR pairs ({@link DataBenchmark}), ViT training steps ({@link VitBenchmark},
 * {@link VitStepBenchmark}, {@link VitDistriBenchmark}) and sgemm ({@link GemmBenchmark}), written as JSON for
 * bench/report.py ({@link BenchResults}, {@link Measurement}); and {@link IterationsPerJobPrototype}, a PROTOTYPE the
 * product does not use, reachable only as {@code sparkvit bench vit --mode loop}. Run by the bench commands
 * ({@link dev.sparkvit.bench.cli}) and by {@code make bench} (docs/BENCHMARKS.md). No product package may depend on
 * it.
 */
package dev.sparkvit.bench;
