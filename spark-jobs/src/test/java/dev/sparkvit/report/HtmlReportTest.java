package dev.sparkvit.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HtmlReportTest {

    @Test
    void writesOneSelfContainedPage(@TempDir Path dir) throws IOException {
        BufferedImage pixels = new BufferedImage(4, 3, BufferedImage.TYPE_INT_RGB);
        pixels.setRGB(1, 1, 0x3366cc);
        Path png = dir.resolve("chart.png");
        PngFiles.write(pixels, png);
        Path file = dir.resolve("out/report.html");

        new HtmlReport("Evaluation of run 7")
                .heading("Scores")
                .paragraph("Test set: 10 images & 3 classes.")
                .table("per class", List.of("class", "f1"), List.of(List.of("cat", "0.667"), List.of("dog", "0.333")))
                .image("confusion matrix", png)
                .write(file);

        String html = Files.readString(file, StandardCharsets.UTF_8);
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        assertTrue(html.contains("<title>Evaluation of run 7</title>"));
        assertTrue(html.contains("<h1>Evaluation of run 7</h1>"));
        assertTrue(html.contains("<p>Test set: 10 images &amp; 3 classes.</p>"));
        assertTrue(html.contains("<caption>per class</caption>"));
        assertTrue(html.contains("<th>class</th><th>f1</th>"));
        assertTrue(html.contains("<td>cat</td><td class=\"num\">0.667</td>"));
        assertTrue(html.contains("<td>dog</td><td class=\"num\">0.333</td>"));
        Matcher image = Pattern.compile("src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"").matcher(html);
        assertTrue(image.find(), "an embedded PNG");
        assertArrayEquals(Files.readAllBytes(png), Base64.getDecoder().decode(image.group(1)));
        assertFalse(html.contains("src=\"http"), "no external image");
        assertFalse(html.contains("href=\"http"), "no external link or style sheet");
        assertFalse(html.contains("<link"), "no external style sheet");
        try (Stream<Path> files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList(), "no temporary file is left behind");
        }
    }

    @Test
    void escapesAllText(@TempDir Path dir) throws IOException {
        String evil = "<script>alert('x')</script>";
        Path file = dir.resolve("report.html");
        new HtmlReport("title " + evil)
                .paragraph(evil)
                .table(evil, List.of("class", evil), List.of(List.of(evil, "1")))
                .write(file);
        String html = Files.readString(file, StandardCharsets.UTF_8);
        assertFalse(html.contains("<script>"), html);
        assertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assertTrue(html.contains("<td>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</td>"));
        assertEquals("a &amp; b &quot;c&quot;", HtmlReport.escape("a & b \"c\""));
    }

    @Test
    void missingOrInvalidImageIsReportedWithItsPath(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("no-such-chart.png");
        HtmlReport report = new HtmlReport("t");
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> report.image("chart", missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());

        Path text = Files.writeString(dir.resolve("not-a.png"), "hello");
        IllegalArgumentException notPng = assertThrows(IllegalArgumentException.class,
                () -> report.image("chart", text));
        assertTrue(notPng.getMessage().contains(text.toString()), notPng.getMessage());
    }

    @Test
    void rejectsARaggedTable() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new HtmlReport("t")
                .table("scores", List.of("a", "b"), List.of(List.of("1", "2"), List.of("3"))));
        assertTrue(e.getMessage().contains("row 1 of table \"scores\" has 1 cells for 2 columns"), e.getMessage());
    }
}
