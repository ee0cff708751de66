package dev.sparkvit.jobs.evaluate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestResult;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.jobs.inference.ClassifierWeights;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.model.vit.VitPresets;
import dev.sparkvit.testing.SharedSpark;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Class names are folder names of an image collection, which someone else may have named (docs/SECURITY.md).
 * From folders named like HTML markup through ingest to the evaluation report: report.html shows the names as
 * text (no element or attribute of theirs reaches the page), metrics.json keeps them exactly, and no file is
 * written under a class name.
 */
@ExtendWith(SharedSpark.class)
class HostileClassNamesReportTest {
    private static final String PRESET = "vit_nano_patch4_32";
    private static final VitConfig CONFIG = VitPresets.get(PRESET).withImgSize(16);
    /** A folder name cannot hold '/', so no closing tag; these need none to run in a browser. */
    private static final List<String> HOSTILE = List.of("<img src=x onerror=alert(1)>",
            "<script>alert(document.cookie)<", "\" onmouseover=\"alert(2)", "&lt;b&gt;'quoted'");
    private static final Pattern OWN_TAGS = Pattern.compile("<(!DOCTYPE html|html lang=\"en\"|meta charset=\"utf-8\"|"
            + "td class=\"num\"|/?(html|head|title|style|body|h1|h2|p|table|caption|thead|tbody|tr|th|td|figure|"
            + "figcaption))>");
    private static final Pattern IMAGE = Pattern.compile("<img src=\"data:image/png;base64,[A-Za-z0-9+/=]+\" "
            + "alt=\"[^\"<>]*\">");

    @Test
    void markupInClassFolderNamesIsEscapedInTheReport(@TempDir Path tmp) throws Exception {
        Path raw = tmp.resolve("raw");
        Random random = new Random(5);
        for (String name : HOSTILE) {
            Path folder = Files.createDirectories(raw.resolve(name));
            for (int i = 0; i < 8; i++) {
                BufferedImage image = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < 16; y++) {
                    for (int x = 0; x < 16; x++) {
                        image.setRGB(x, y, random.nextInt(1 << 24));
                    }
                }
                ImageIO.write(image, "png", folder.resolve("img" + i + ".png").toFile());
            }
        }
        String dataset = tmp.resolve("dataset").toString();
        IngestResult ingested = new IngestJob(IngestSettings.defaults(raw.toString(), dataset).withStoredSize(16))
                .execute(SharedSpark.session());
        List<String> classes = ingested.manifest().classes();
        assertEquals(HOSTILE.stream().sorted().toList(), classes.stream().sorted().toList(), "names kept exactly");

        // a classifier for these classes (untrained: the report's content, not its accuracy, is under test)
        Path run = Files.createDirectories(tmp.resolve("run"));
        ClassifierWeights.of(PRESET, VisionTransformer.classifier(CONFIG, classes.size(), 3), classes,
                Map.of("dataset", dataset)).save(run.resolve("finetuned.safetensors"));
        Path out = run.resolve("evaluation");
        EvaluateJob.Result result = new EvaluateJob(new EvaluateJob.Settings(run, null, dataset, "train",
                List.of("identity"), out), new PrintStream(new ByteArrayOutputStream(), true))
                .execute(SharedSpark.session());

        String html = Files.readString(result.report(), StandardCharsets.UTF_8);
        // every tag in the page is one the report itself writes, with its own attributes only
        Matcher tags = Pattern.compile("<[^>]*>").matcher(html);
        int images = 0;
        while (tags.find()) {
            String tag = tags.group();
            if (tag.startsWith("<img")) {
                images++;
                assertTrue(IMAGE.matcher(tag).matches(), tag);
            } else {
                assertTrue(OWN_TAGS.matcher(tag).matches(), "a tag the report does not write: " + tag);
            }
        }
        assertTrue(images >= 1, "the confusion matrix is embedded");
        assertFalse(html.contains("<script"), "no script element");
        // every name appears, escaped, in the per-class table
        for (String name : HOSTILE) {
            assertTrue(html.contains("<td>" + escaped(name) + "</td>"), name);
        }

        JsonNode live = new ObjectMapper().readTree(result.metrics().toFile()).path("variants").path("live");
        List<String> recorded = new ArrayList<>();
        live.path("classes").forEach(n -> recorded.add(n.asText()));
        assertEquals(classes, recorded, "metrics.json keeps the names exactly");

        try (Stream<Path> written = Files.walk(out)) {
            for (Path file : written.toList()) {
                String name = file.getFileName().toString();
                assertTrue(name.matches("[a-z0-9.+-]+"), "file named from data: " + name);
            }
        }
    }

    private static String escaped(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;")
                .replace("'", "&#39;");
    }
}
