/**
 * The {@code sparkvit} command line (picocli): {@link dev.sparkvit.cli.Main} lists the subcommands, and each
 * {@code *Command} parses its options, reads its settings (a YAML config through {@link ConfigOptions}, or options),
 * starts Spark through {@link SparkCommand} and runs one job; {@link ExitCodes} and {@link DriverExit} turn the
 * outcome into the documented exit code. The top of the code: it depends on every other package, and no product
 * package depends on it. Start reading at {@code Main}, then a command such as {@link PretrainCommand}. The
 * {@code bench} commands are not here: they are the bench module's ({@code dev.sparkvit.bench.cli}, its own jar).
 */
package dev.sparkvit.cli;
