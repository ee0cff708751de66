package dev.sparkvit.bench.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code sparkvit bench}: the benchmarks behind {@code make bench}, the root command of {@link BenchMain}. Each subcommand prints its medians and, with
 * {@code --json FILE}, writes them for bench/report.py. Timing is wall clock: compare numbers of the same run only.
 */
@Command(name = "sparkvit bench", mixinStandardHelpOptions = true,
        description = "Benchmarks (medians of repeated runs); `make bench` runs them all and writes docs/BENCHMARKS.md.",
        subcommands = {DataBenchCommand.class, DatasetBenchCommand.class, GemmBenchCommand.class,
                ProductBenchCommand.class, ScaleBenchCommand.class, VitBenchCommand.class,
                CommandLine.HelpCommand.class})
final class BenchCommand implements Runnable {
    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }
}
