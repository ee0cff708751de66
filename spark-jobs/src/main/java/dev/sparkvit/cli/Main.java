package dev.sparkvit.cli;

import dev.sparkvit.engine.NioLocalFileSystem;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code sparkvit} command: parses arguments, runs one subcommand, exits with its code. */
@Command(name = "sparkvit", mixinStandardHelpOptions = true, version = "sparkvit 0.1.0",
        description = "Spark-native self-supervised Vision Transformer training.",
        subcommands = {DemoCommand.class, IngestCommand.class, PairsCommand.class, PretrainCommand.class,
                FinetuneCommand.class, EvaluateCommand.class, PredictCommand.class, LinearProbeCommand.class,
                RetrainCommand.class, MigrateCommand.class, SnapshotsCommand.class,
                ModelSummaryCommand.class, Main.NotInThisJar.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    /** Runs the command and ends the JVM with its exit code; inside YARN's ApplicationMaster, see {@link DriverExit}. */
    public static void main(String[] args) {
        NioLocalFileSystem.install(); // before anything makes (and caches) a Hadoop file system
        CommandLine commandLine = commandLine();
        DriverExit.LastLine err = new DriverExit.LastLine(commandLine.getErr());
        commandLine.setErr(new java.io.PrintWriter(err, true));
        int code = commandLine.execute(args);
        DriverExit.end(code, System.getProperties(), System::exit, err.last());
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
        return withExitCodes(new CommandLine(new Main()));
    }

    /**
     * {@code commandLine} with this CLI's exit codes and one-line messages (see {@link #commandLine()}); public for
     * other entry points over the same jobs (the bench module's {@code sparkvit bench}).
     */
    public static CommandLine withExitCodes(CommandLine cli) {
        return cli
                .setExecutionExceptionHandler((error, commandLine, parseResult) -> {
                    if (error instanceof IllegalArgumentException) {
                        commandLine.getErr().println("sparkvit: " + error.getMessage());
                        return ExitCodes.BAD_INPUT;
                    }
                    if (error instanceof dev.sparkvit.lock.LockHeldException) {
                        commandLine.getErr().println("sparkvit: " + error.getMessage());
                        return ExitCodes.LOCK_HELD;
                    }
                    String outOfMemory = outOfMemory(error);
                    if (outOfMemory != null) {
                        org.slf4j.LoggerFactory.getLogger(Main.class).error("out of memory", error);
                        commandLine.getErr().println("sparkvit: " + outOfMemory);
                        return ExitCodes.INTERNAL;
                    }
                    if (error instanceof dev.sparkvit.jobs.train.TrainingDivergedException
                            || error instanceof dev.sparkvit.model.io.NonFiniteValuesException) {
                        commandLine.getErr().println("sparkvit: " + error.getMessage());
                        return ExitCodes.NON_FINITE;
                    }
                    throw error;
                });
    }

    /**
     * The one line an out-of-memory error ends with, or null when {@code error} is none: an OutOfMemoryError in its
     * causes (the driver, or a task of a local master), or named in a message (a task on an executor, whose error
     * reaches the driver as text). The trace goes to the log.
     */
    static String outOfMemory(Throwable error) {
        String kind = null;
        for (Throwable t = error; t != null && kind == null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof OutOfMemoryError) { // in this JVM (wrappers above it name it in their messages too)
                kind = t.getMessage() == null ? "OutOfMemoryError" : t.getMessage();
            }
        }
        for (Throwable t = error; t != null && kind == null; t = t.getCause() == t ? null : t.getCause()) {
            if (t.getMessage() != null && t.getMessage().contains("java.lang.OutOfMemoryError")) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("java\\.lang\\.OutOfMemoryError:?\\s*"
                        + "([^\\n\\r]*)").matcher(t.getMessage());
                kind = m.find() && !m.group(1).isBlank() ? m.group(1).trim() + " on an executor"
                        : "OutOfMemoryError on an executor";
            }
        }
        if (kind == null) {
            return null;
        }
        String shape = dev.sparkvit.jobs.train.MemoryUse.current();
        return "out of memory (" + kind + "); this JVM's heap is " + (Runtime.getRuntime().maxMemory() >> 20)
                + " MiB" + (shape == null ? "" : "; the model holds " + shape + ", and its activations grow with "
                + "tokens x images (attention with tokens squared)") + ": lower training.batch_size, or data.img_size "
                + "(or a preset for smaller images: tokens are (img_size / patch)^2), or give more memory (local: "
                + "SPARKVIT_JAVA_OPTS=-Xmx8g; spark-submit: --driver-memory, --executor-memory); the trace is in the log";
    }

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    /**
     * {@code sparkvit bench ...} run from the product jar alone: the benchmarks live in the bench module's jar
     * (bench/target/sparkvit-bench.jar), which submit/sparkvit puts in front of this one; one line saying so.
     */
    @Command(name = "bench", hidden = true, description = "Benchmarks: not in the product jar (make bench).")
    static final class NotInThisJar implements java.util.concurrent.Callable<Integer> {
        @CommandLine.Unmatched
        java.util.List<String> ignored;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            spec.commandLine().getErr().println("sparkvit: benchmarks are not in the product jar: run them with "
                    + "`make bench` or `submit/sparkvit bench ...` after `make build` (bench/target/sparkvit-bench.jar"
                    + "; docs/BENCHMARKS.md)");
            return ExitCodes.BAD_INPUT;
        }
    }
}
