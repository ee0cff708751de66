package dev.sparkvit.jobs.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.testing.SharedSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(SharedSpark.class)
class DemoJobTest {

    @Test
    void ingestsTheEmbeddedDatasetAndTheLossFalls(@TempDir Path out) throws IOException {
        DemoSettings settings = new DemoSettings(out, 16, 8, 40, 16, 0.001, 42);
        DemoResult result = new DemoJob(settings).execute(SharedSpark.session());

        assertEquals(80, result.ingest().inputFiles());
        assertEquals(80, result.ingest().stored());
        int perEpoch = DemoJob.iterationsPerEpoch(result.trainImages(), 16);
        assertEquals(40 * perEpoch, result.iterationLosses().length);
        float[] means = result.epochMeanLosses();
        assertTrue(means[means.length - 1] < 0.8f * means[0],
                "mean loss should fall by 20%: " + Arrays.toString(means));
        assertTrue(Files.size(result.pairsPng()) > 0, "contact sheet written");
        try (Stream<Path> events = Files.walk(result.tensorboardDir())) {
            assertTrue(events.anyMatch(p -> p.getFileName().toString().contains("tfevents")),
                    "TensorBoard event file written under " + result.tensorboardDir());
        }
    }

    @Test
    void epochMeansAverageConsecutiveIterations() {
        float[] means = DemoJob.epochMeans(new float[] {4, 2, 3, 1, 2}, 2);
        assertEquals(3, means.length);
        assertEquals(3f, means[0]);
        assertEquals(2f, means[1]);
        assertEquals(2f, means[2], "a short last epoch averages what it has");
        assertEquals(16, DemoJob.iterationsPerEpoch(256, 16));
        assertEquals(17, DemoJob.iterationsPerEpoch(257, 16));
    }

    @Test
    void settingsNameTheBadOption(@TempDir Path out) {
        IllegalArgumentException error = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> new DemoSettings(out, 30, 4, 1, 8, 0.1, 1));
        assertTrue(error.getMessage().contains("--image-size = 30"), error.getMessage());
    }
}
