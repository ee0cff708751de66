package dev.sparkvit.data.ingest;

import dev.sparkvit.jobs.train.ChildProcesses;
import dev.sparkvit.jobs.train.ChildProcesses.Child;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What the ingest process tests share: input folders of small PNGs and ingest runs in child JVMs. */
final class IngestChildren {
    private IngestChildren() {
    }

    /** Writes {@code n} 16 x 16 noise PNGs of class {@code cls} under {@code root}, their pixels from {@code seed}. */
    static void images(Path root, String cls, int n, int seed) throws IOException {
        for (int i = 0; i < n; i++) {
            BadFiles.write(root.resolve(cls).resolve(cls + i + ".png"),
                    BadFiles.encode(BadFiles.noise(16, 16, seed * 1000L + i), "png"));
        }
    }

    /** Starts {@code sparkvit ingest} of {@code input} into {@code dataset} (8-px stored size) in a child JVM. */
    static Child ingest(Path tmp, String name, Path input, Path dataset, boolean incremental) throws IOException {
        List<String> args = new ArrayList<>(List.of("ingest", "--input", input.toString(), "--output",
                dataset.toString(), "--stored-size", "8"));
        if (incremental) {
            args.add("--incremental");
        }
        return ChildProcesses.sparkvit(tmp.resolve("logs"), name, args);
    }
}
