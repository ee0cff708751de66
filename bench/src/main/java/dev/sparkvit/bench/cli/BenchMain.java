package dev.sparkvit.bench.cli;

import dev.sparkvit.cli.Main;
import dev.sparkvit.engine.NioLocalFileSystem;
import picocli.CommandLine;

/**
 * The entry point of the bench jar: {@code sparkvit bench ARGS} (submit/sparkvit) runs {@code BenchMain ARGS}, with
 * the product CLI's exit codes and one-line messages ({@link Main#withExitCodes}).
 */
public final class BenchMain {
    private BenchMain() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the bench command line and returns its exit code. */
    public static int run(String... args) {
        NioLocalFileSystem.install(); // before anything makes (and caches) a Hadoop file system, as the product's Main
        return commandLine().execute(args);
    }

    static CommandLine commandLine() {
        return Main.withExitCodes(new CommandLine(new BenchCommand()));
    }
}
