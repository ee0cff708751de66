package dev.sparkvit.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataBenchmarkTest {

    @Test
    void theSmallerSetLinksTheFirstFilesOfEachClassAndReplacesOlderSubsets(@TempDir Path work) throws IOException {
        BenchInputs inputs = new BenchInputs(3);
        Path root = inputs.writeOrReuse(work);
        Files.createDirectories(work.resolve("inputs-70").resolve("disc"));
        Path subset = inputs.subset(work, 2);
        assertEquals(work.resolve("inputs-20"), subset);
        try (Stream<Path> files = Files.walk(subset)) {
            List<Path> linked = files.filter(Files::isRegularFile).sorted().toList();
            assertEquals(20, linked.size());
            for (Path file : linked) {
                Path original = root.resolve(subset.relativize(file));
                assertTrue(Files.isSameFile(original, file), file + " is a link to " + original);
                assertTrue(!file.getFileName().toString().contains("_00002."), "only the first two of a class");
            }
        }
        assertTrue(!Files.exists(work.resolve("inputs-70")), "an older subset is removed");
        assertThrows(IllegalArgumentException.class, () -> inputs.subset(work, 3));
    }

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
