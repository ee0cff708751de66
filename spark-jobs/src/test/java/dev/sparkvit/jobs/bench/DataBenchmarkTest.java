package dev.sparkvit.jobs.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataBenchmarkTest {

    @Test
    void datasetsOfSizesThisRunDoesNotMeasureAreRemovedAndNothingElse(@TempDir Path work) throws IOException {
        for (String name : List.of("dataset-32", "dataset-96", "dataset-224", "inputs", "dataset-x")) {
            Files.createDirectories(work.resolve(name).resolve("images"));
        }
        Files.writeString(work.resolve("inputs.json"), "{}");
        DataBenchmark.removeOtherDatasets(work, List.of(32, 96));
        try (Stream<Path> left = Files.list(work)) {
            assertEquals(List.of("dataset-32", "dataset-96", "dataset-x", "inputs", "inputs.json"),
                    left.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }
}
