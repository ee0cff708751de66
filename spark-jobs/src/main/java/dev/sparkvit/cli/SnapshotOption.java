package dev.sparkvit.cli;

import picocli.CommandLine.Option;

/** {@code --snapshot} of the commands that read a dataset: which snapshot of its table, exactly. */
final class SnapshotOption {
    @Option(names = "--snapshot", paramLabel = "ID", description = "Read this snapshot of the dataset's table "
            + "(default: the current one; a resumed run: the one its checkpoints record).")
    Long snapshot;
}
