package dev.sparkvit.cli;

import dev.sparkvit.engine.NioLocalFileSystem;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code sparkvit} command: parses arguments, runs one subcommand, exits with its code. */
@Command(name = "sparkvit", mixinStandardHelpOptions = true, version = "sparkvit 0.1.0",
        description = "Spark-native self-supervised Vision Transformer training.",
        subcommands = {DemoCommand.class, IngestCommand.class, PairsCommand.class, PretrainCommand.class,
                FinetuneCommand.class, EvaluateCommand.class, PredictCommand.class, LinearProbeCommand.class,
                RetrainCommand.class,
                ModelSummaryCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (see {@link ExitCodes}). */
    public static int run(String... args) {
        NioLocalFileSystem.install(); // before anything makes (and caches) a Hadoop file system
        return commandLine().execute(args);
    }

    /**
     * The configured command line. Unknown or malformed options and invalid values (IllegalArgumentException) exit
     * with {@link ExitCodes#BAD_INPUT} and a one-line message; training stopped by a non-finite loss or gradient with
     * {@link ExitCodes#NON_FINITE} and a one-line message; anything else with {@link ExitCodes#INTERNAL}.
     */
    static CommandLine commandLine() {
        return new CommandLine(new Main())
                .setExecutionExceptionHandler((error, commandLine, parseResult) -> {
                    if (error instanceof IllegalArgumentException) {
                        commandLine.getErr().println("sparkvit: " + error.getMessage());
                        return ExitCodes.BAD_INPUT;
                    }
                    if (error instanceof dev.sparkvit.jobs.retrain.LockHeldException) {
                        commandLine.getErr().println("sparkvit: " + error.getMessage());
                        return ExitCodes.LOCK_HELD;
                    }
                    if (error instanceof dev.sparkvit.jobs.train.TrainingDivergedException
                            || error instanceof dev.sparkvit.model.io.NonFiniteValuesException) {
                        commandLine.getErr().println("sparkvit: " + error.getMessage());
                        return ExitCodes.NON_FINITE;
                    }
                    throw error;
                });
    }

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }
}
