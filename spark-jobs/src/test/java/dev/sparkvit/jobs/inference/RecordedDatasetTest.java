package dev.sparkvit.jobs.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.sparkvit.config.ConfigException;
import dev.sparkvit.jobs.predict.PredictJob;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.model.vit.VitPresets;
import dev.sparkvit.testing.SharedSpark;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A classifier file from elsewhere names the dataset whose manifest predict and evaluate read; Hadoop would
 * fetch an http:// one from any host. The test serves HTTP on loopback and counts the requests a predict run
 * with such a file makes: none, and the run stops with a one-line error naming the file.
 */
@ExtendWith(SharedSpark.class)
class RecordedDatasetTest {
    private static final String PRESET = "vit_nano_patch4_32";
    private static final VitConfig CONFIG = VitPresets.get(PRESET).withImgSize(16);

    @TempDir
    Path tmp;

    private Path classifierRecording(String dataset) {
        Path file = tmp.resolve("foreign.safetensors");
        ClassifierWeights.of(PRESET, VisionTransformer.classifier(CONFIG, 2, 1), List.of("a", "b"),
                dataset == null ? Map.of() : Map.of("dataset", dataset)).save(file);
        return file;
    }

    @Test
    void datasetPathsAreAcceptedAndUrlsToFetchAreRefused() {
        for (String ok : List.of("/data/ds", "relative/ds", "file:/data/ds", "hdfs://nn:8020/ds", "s3a://bucket/ds",
                "viewfs://cluster/ds")) {
            Path file = classifierRecording(ok);
            assertEquals(ok, RecordedDataset.of(ClassifierWeights.load(file), file));
        }
        Path none = classifierRecording(null);
        assertNull(RecordedDataset.of(ClassifierWeights.load(none), none));
        for (String url : List.of("http://example.org/ds", "HTTPS://example.org/ds", "ftp://example.org/ds")) {
            Path file = classifierRecording(url);
            ConfigException e = assertThrows(ConfigException.class,
                    () -> RecordedDataset.of(ClassifierWeights.load(file), file));
            assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains(url), e.getMessage());
        }
    }

    @Test
    void predictWithAFileRecordingAnHttpDatasetFetchesNothing() throws Exception {
        AtomicInteger requests = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            requests.incrementAndGet();
            exchange.sendResponseHeaders(404, -1);
            exchange.close();
        });
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/datasets/ds";
            Path model = classifierRecording(url);
            Path images = Files.createDirectories(tmp.resolve("images"));
            ImageIO.write(new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB), "png",
                    images.resolve("x.png").toFile());
            Path out = tmp.resolve("predictions");
            PredictJob job = new PredictJob(new PredictJob.Settings(model, images.toString(), null, out.toString(),
                    1, List.of("identity")), new PrintStream(new ByteArrayOutputStream(), true));
            RuntimeException e = assertThrows(RuntimeException.class, () -> job.execute(SharedSpark.session()));
            assertEquals(0, requests.get(), "HTTP requests made on behalf of the weights file");
            assertTrue(e instanceof ConfigException && e.getMessage().contains(url), e.toString());
            assertFalse(Files.exists(out), "nothing written");
        } finally {
            server.stop(0);
        }
    }
}
