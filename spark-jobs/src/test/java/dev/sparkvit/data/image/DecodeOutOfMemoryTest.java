package dev.sparkvit.data.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A valid image that runs out of memory while decoding (issue 20, defect 2). Before, the decoder turned the
 * OutOfMemoryError into a verdict, {@code corrupt}, and the file's hash was then known: a re-run with more memory
 * skipped it for good. An OOM is not a property of the file: it is now {@code retry_later}, with the memory the
 * declared size needs. The decode runs in a child JVM with a 32 MiB heap, where a 4000 x 4000 PNG (48 MB of RGB)
 * cannot fit.
 */
class DecodeOutOfMemoryTest {

    @Test
    void aValidImageThatDoesNotFitTheHeapIsRetryLaterWithTheMemoryItNeeds(@TempDir Path tmp) throws Exception {
        Path png = tmp.resolve("large.png");
        BufferedImage image = new BufferedImage(4000, 4000, BufferedImage.TYPE_INT_RGB); // one colour: 60 kB
        ImageIO.write(image, "png", png.toFile());
        Process child = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx32m", "-cp", System.getProperty("java.class.path"),
                DecodeInSmallHeap.class.getName(), png.toString())).redirectErrorStream(true).start();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(child.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, child.exitValue(), output);
        String verdict = output.lines().reduce((a, b) -> b).orElse("");
        assertTrue(verdict.startsWith("retry_later | "), verdict);
        assertTrue(verdict.contains("4000x4000") && verdict.contains("MiB") && verdict.contains("heap"), verdict);
    }
}
