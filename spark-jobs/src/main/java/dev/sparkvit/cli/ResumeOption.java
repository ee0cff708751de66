package dev.sparkvit.cli;

import picocli.CommandLine.Option;

/** {@code --resume} of the training commands that checkpoint. */
final class ResumeOption {
    @Option(names = "--resume", description = "Continue the run in output_dir from its newest checkpoint.")
    boolean resume;
}
