/**
 * Benchmark and prototype code, not part of any product job: throughput of ingestion and SimCLR pairs
 * ({@link DataBenchmark}), ViT training steps ({@link VitBenchmark}, {@link VitStepBenchmark},
 * {@link VitDistriBenchmark}) and sgemm ({@link GemmBenchmark}), written as JSON for bench/report.py
 * ({@link BenchResults}, {@link Measurement}); and {@link IterationsPerJobPrototype}, a prototype the product does
 * not use, reachable only as {@code sparkvit bench vit --mode loop}. Run by the CLI's {@code bench} commands and by
 * {@code make bench} (docs/BENCHMARKS.md). It still ships in {@code sparkvit.jar}; issue 23 moves it out of the
 * product jar. No product package may depend on it.
 */
package dev.sparkvit.jobs.bench;
