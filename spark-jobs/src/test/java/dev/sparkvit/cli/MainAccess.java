package dev.sparkvit.cli;

import picocli.CommandLine;

/** The configured command line of {@link Main}, for tests outside this package that check exit codes. */
public final class MainAccess {
    private MainAccess() {
    }

    public static CommandLine commandLine() {
        return Main.commandLine();
    }
}
