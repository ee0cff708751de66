/**
 * {@code sparkvit bench}: the benchmark commands ({@link BenchCommand} and its subcommands), entered through
 * {@link BenchMain}; submit/sparkvit runs it when the first argument is {@code bench}, with the bench jar in front of
 * the product jar and its classpath.
 */
package dev.sparkvit.bench.cli;
