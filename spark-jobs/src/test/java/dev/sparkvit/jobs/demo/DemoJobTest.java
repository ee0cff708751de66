package dev.sparkvit.jobs.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.testing.SharedSpark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(SharedSpark.class)
class DemoJobTest {

    @Test
    void ingestsPretrainsAndProbesAndARerunAddsNothing(@TempDir Path out) throws Exception {
        DemoSettings settings = new DemoSettings(out, 16, 8, 2, 16, 0.002, 2, 42);
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        DemoResult result = new DemoJob(settings, new PrintStream(console, true)).execute(SharedSpark.session());

        assertEquals(80, result.ingest().inputFiles());
        assertEquals(80, result.ingest().stored());
        assertTrue(Files.size(result.pairsPng()) > 0, "contact sheet written");
        assertTrue(result.pretrain().pretrainedProbe().valImages() > 0);
        assertTrue(result.pretrain().randomProbe().valImages() > 0);
        assertTrue(Files.exists(result.pretrain().curves()));
        assertTrue(console.toString().contains("epoch 2/2"), console.toString());
        assertTrue(console.toString().contains("EMA acc"), "fine-tuning epochs: " + console);
        assertEquals(java.util.List.of("live", "live+tta", "ema", "ema+tta", "baseline live", "baseline live+tta",
                "baseline ema", "baseline ema+tta"),
                new java.util.ArrayList<>(result.evaluation().variants().keySet()));
        assertTrue(Files.readString(result.evaluation().report()).contains("baseline ema+tta"));

        DemoResult again = new DemoJob(settings, new PrintStream(new ByteArrayOutputStream()))
                .execute(SharedSpark.session());
        assertEquals(0, again.ingest().stored(), "the second run ingests nothing new");
        org.junit.jupiter.api.Assertions.assertNotEquals(result.pretrainDir(), again.pretrainDir(),
                "each run pretrains into a folder of its own");
    }

    @Test
    void rejectsAnImageSizeThePatchesCannotTile(@TempDir Path out) {
        IllegalArgumentException error = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> new DemoSettings(out, 30, 4, 1, 8, 0.1, 2, 1));
        assertTrue(error.getMessage().contains("--image-size = 30"), error.getMessage());
    }
}
