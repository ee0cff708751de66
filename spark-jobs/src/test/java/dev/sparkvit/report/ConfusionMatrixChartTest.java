package dev.sparkvit.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfusionMatrixChartTest {
    private static final List<String> CLASSES = List.of("cat", "dog", "<script>alert(1)</script> a very long name");

    @Test
    void fullRowCellIsDarkAndEmptyCellsAreWhite(@TempDir Path dir) throws IOException {
        long[][] confusion = {{5, 0, 0}, {1, 2, 1}, {0, 0, 0}};
        Path file = dir.resolve("confusion.png");
        ConfusionMatrixChart.write(CLASSES, confusion, "confusion (ema)", file);

        BufferedImage image = ImageIO.read(file.toFile());
        assertNotNull(image, "a readable PNG");
        ConfusionMatrixChart.Layout layout = ConfusionMatrixChart.Layout.of(3);
        assertEquals(layout.width(), image.getWidth());
        assertEquals(layout.height(), image.getHeight());
        Color full = sample(image, layout.cell(0, 0)); // 5 of 5: 100 % of its row
        Color none = sample(image, layout.cell(0, 1)); // 0 of 5
        Color half = sample(image, layout.cell(1, 1)); // 2 of 4
        Color emptyRow = sample(image, layout.cell(2, 2)); // a class with no examples
        assertEquals(Color.WHITE, none);
        assertEquals(Color.WHITE, emptyRow);
        assertEquals(ConfusionMatrixChart.shade(1), full);
        assertTrue(brightness(full) < brightness(half) && brightness(half) < brightness(none),
                "full " + full + ", half " + half + ", none " + none);
        assertTrue(full.getBlue() > full.getRed(), "shades are blue: " + full);
    }

    @Test
    void oneClassAndFiftyClassesGiveSensibleSizes(@TempDir Path dir) throws IOException {
        Path one = dir.resolve("one.png");
        ConfusionMatrixChart.write(List.of("only"), new long[][] {{7}}, "one class", one);
        BufferedImage small = ImageIO.read(one.toFile());
        assertNotNull(small);
        assertTrue(small.getWidth() > 0 && small.getHeight() > 0);

        int n = 50;
        List<String> names = new ArrayList<>();
        long[][] confusion = new long[n][n];
        for (int i = 0; i < n; i++) {
            names.add("class_number_" + i + "_with_a_name_much_too_long_for_the_margin");
            confusion[i][i] = 1234567;
            confusion[i][(i + 1) % n] = 3;
        }
        Path many = dir.resolve("many.png");
        ConfusionMatrixChart.write(names, confusion, "fifty classes", many);
        BufferedImage large = ImageIO.read(many.toFile());
        assertNotNull(large);
        ConfusionMatrixChart.Layout layout = ConfusionMatrixChart.Layout.of(n);
        assertEquals(layout.width(), large.getWidth());
        assertTrue(large.getWidth() <= 1000 && large.getHeight() <= 1100,
                large.getWidth() + "x" + large.getHeight());
        assertTrue(layout.cell() < ConfusionMatrixChart.Layout.of(3).cell(), "cells shrink with more classes");
        assertTrue(brightness(sample(large, layout.cell(7, 7))) < brightness(sample(large, layout.cell(7, 8))));
    }

    @Test
    void cellsAreCappedForFewClasses() {
        ConfusionMatrixChart.Layout two = ConfusionMatrixChart.Layout.of(2);
        assertEquals(ConfusionMatrixChart.Layout.of(1).cell(), two.cell());
        Rectangle a = two.cell(0, 0);
        Rectangle b = two.cell(1, 1);
        assertEquals(new Rectangle(a.x + a.width, a.y + a.height, a.width, a.height), b);
    }

    @Test
    void rejectsMatricesThatDoNotMatchTheClasses(@TempDir Path dir) {
        Path file = dir.resolve("bad.png");
        IllegalArgumentException rows = assertThrows(IllegalArgumentException.class,
                () -> ConfusionMatrixChart.write(List.of("a", "b"), new long[][] {{1, 0}, {0, 1}, {0, 0}}, "t", file));
        assertTrue(rows.getMessage().contains("3 rows for 2 class names"), rows.getMessage());
        IllegalArgumentException square = assertThrows(IllegalArgumentException.class,
                () -> ConfusionMatrixChart.write(List.of("a", "b"), new long[][] {{1, 0}, {0, 1, 2}}, "t", file));
        assertTrue(square.getMessage().contains("row 1 has 3 columns"), square.getMessage());
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> ConfusionMatrixChart.write(List.of("a"), new long[][] {{-1}}, "t", file));
        assertTrue(negative.getMessage().contains("confusion[0][0] = -1"), negative.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> ConfusionMatrixChart.write(List.of(), new long[0][0], "t", file));
    }

    /** The colour a few pixels inside a cell's top-left corner: inside the fill, clear of the border and the count. */
    private static Color sample(BufferedImage image, Rectangle cell) {
        int inset = Math.min(3, cell.width / 4);
        return new Color(image.getRGB(cell.x + inset, cell.y + inset));
    }

    private static int brightness(Color c) {
        return IntStream.of(c.getRed(), c.getGreen(), c.getBlue()).sum();
    }
}
