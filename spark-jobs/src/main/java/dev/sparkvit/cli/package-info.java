/**
 * The {@code sparkvit} command line (picocli): {@link dev.sparkvit.cli.Main} lists the subcommands, and each
 * {@code *Command} parses its options, reads its settings (a YAML config through {@link ConfigOptions}, or options),
 * starts Spark through {@link SparkCommand} and runs one job; {@link ExitCodes} and {@link DriverExit} turn the
 * outcome into the documented exit code. The top of the code: it depends on every other package, and no product
 * package depends on it. Start reading at {@code Main}, then a command such as {@link PretrainCommand}. The
 * {@code bench} commands ({@link BenchCommand} and its subcommands) run {@link dev.sparkvit.jobs.bench}.
 */
package dev.sparkvit.cli;
