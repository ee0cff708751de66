package dev.sparkvit.report;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A PNG heat map of a confusion matrix, drawn with Java2D: rows are true classes, columns predicted ones. A cell's
 * colour runs from white to blue with its share of the row (so classes of different sizes compare), and it shows the
 * raw count in black or white, whichever contrasts. Cells shrink as classes grow, so 1 to about 50 classes fit;
 * class names too long for the margins are cut short with an ellipsis, column names are written vertically.
 */
public final class ConfusionMatrixChart {
    private static final int MAX_CELL = 64;
    private static final int MIN_CELL = 14;
    private static final int GRID_TARGET = 640;
    private static final int TITLE_SPACE = 48;
    private static final int AXIS_SPACE = 26;
    private static final int LABEL_SPACE = 140;
    private static final int RIGHT_MARGIN = 16;
    private static final int MIN_WIDTH = 380;
    private static final Color FULL = new Color(0x08519c);
    private static final Color GRID_LINE = new Color(0xd0d0d0);

    private ConfusionMatrixChart() {
    }

    /** Where things are drawn for a number of classes: the grid's top-left corner, its cell size, the image size. */
    record Layout(int classes, int cell, int gridLeft, int gridTop, int width, int height) {
        static Layout of(int classes) {
            int cell = Math.max(MIN_CELL, Math.min(MAX_CELL, GRID_TARGET / classes));
            int grid = cell * classes;
            int left = AXIS_SPACE + LABEL_SPACE;
            return new Layout(classes, cell, left, TITLE_SPACE, Math.max(MIN_WIDTH, left + grid + RIGHT_MARGIN),
                    TITLE_SPACE + grid + LABEL_SPACE + AXIS_SPACE);
        }

        /** The cell of examples of class {@code trueClass} predicted as {@code predicted}. */
        Rectangle cell(int trueClass, int predicted) {
            return new Rectangle(gridLeft + predicted * cell, gridTop + trueClass * cell, cell, cell);
        }

        int gridSize() {
            return cell * classes;
        }
    }

    /**
     * Writes the chart of {@code confusion[true][predicted]} to {@code file} (atomically).
     *
     * @throws IllegalArgumentException when the matrix is not square with one row per class name, or has a
     *     negative count
     */
    public static void write(List<String> classNames, long[][] confusion, String title, Path file) {
        check(classNames, confusion);
        Layout layout = Layout.of(classNames.size());
        BufferedImage image = new BufferedImage(layout.width(), layout.height(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, image.getWidth(), image.getHeight());
        drawTitle(g, title, layout);
        drawCells(g, confusion, layout);
        drawClassNames(g, classNames, layout);
        g.dispose();
        try {
            PngFiles.write(image, file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write confusion matrix chart " + file, e);
        }
    }

    private static void check(List<String> classNames, long[][] confusion) {
        if (classNames.isEmpty()) {
            throw new IllegalArgumentException("a confusion matrix needs at least one class");
        }
        if (confusion.length != classNames.size()) {
            throw new IllegalArgumentException("the confusion matrix has " + confusion.length + " rows for "
                    + classNames.size() + " class names");
        }
        for (int t = 0; t < confusion.length; t++) {
            if (confusion[t].length != confusion.length) {
                throw new IllegalArgumentException("confusion matrix row " + t + " has " + confusion[t].length
                        + " columns, not " + confusion.length + " (it must be square)");
            }
            for (int p = 0; p < confusion[t].length; p++) {
                if (confusion[t][p] < 0) {
                    throw new IllegalArgumentException("confusion[" + t + "][" + p + "] = " + confusion[t][p]
                            + " is negative");
                }
            }
        }
    }

    private static void drawTitle(Graphics2D g, String title, Layout layout) {
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(fit(title, g.getFontMetrics(), layout.width() - 20), 10, 22);
        g.setColor(Color.DARK_GRAY);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.drawString(fit("colour: share of the true class's examples; numbers: counts", g.getFontMetrics(),
                layout.width() - 20), 10, 39);
    }

    private static void drawCells(Graphics2D g, long[][] confusion, Layout layout) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, Math.max(7, Math.min(13, layout.cell() * 2 / 5))));
        FontMetrics fm = g.getFontMetrics();
        for (int t = 0; t < confusion.length; t++) {
            long rowSum = 0;
            for (long count : confusion[t]) {
                rowSum += count;
            }
            for (int p = 0; p < confusion.length; p++) {
                Rectangle r = layout.cell(t, p);
                Color fill = shade(rowSum == 0 ? 0 : (double) confusion[t][p] / rowSum);
                g.setColor(fill);
                g.fillRect(r.x, r.y, r.width, r.height);
                g.setColor(GRID_LINE);
                g.drawRect(r.x, r.y, r.width, r.height);
                String text = Long.toString(confusion[t][p]);
                if (fm.stringWidth(text) > r.width - 2) {
                    text = compact(confusion[t][p]);
                }
                if (fm.stringWidth(text) <= r.width - 2) { // else the colour alone tells
                    g.setColor(luminance(fill) < 140 ? Color.WHITE : Color.BLACK);
                    g.drawString(text, (int) r.getCenterX() - fm.stringWidth(text) / 2,
                            (int) r.getCenterY() + (fm.getAscent() - fm.getDescent()) / 2);
                }
            }
        }
    }

    private static void drawClassNames(Graphics2D g, List<String> classNames, Layout layout) {
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, Math.max(8, Math.min(12, layout.cell() - 4))));
        FontMetrics fm = g.getFontMetrics();
        int gridBottom = layout.gridTop() + layout.gridSize();
        int maxWidth = LABEL_SPACE - 10;
        int centring = (fm.getAscent() - fm.getDescent()) / 2;
        for (int i = 0; i < classNames.size(); i++) {
            String name = fit(classNames.get(i), fm, maxWidth);
            Rectangle row = layout.cell(i, 0);
            g.drawString(name, layout.gridLeft() - 6 - fm.stringWidth(name), (int) row.getCenterY() + centring);
            Rectangle column = layout.cell(0, i);
            drawVertical(g, name, (int) column.getCenterX() + centring, gridBottom + 6 + fm.stringWidth(name));
        }
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 12));
        fm = g.getFontMetrics();
        int gridMiddle = layout.gridTop() + layout.gridSize() / 2;
        drawVertical(g, "true", AXIS_SPACE / 2 + (fm.getAscent() - fm.getDescent()) / 2,
                gridMiddle + fm.stringWidth("true") / 2);
        g.drawString("predicted", layout.gridLeft() + layout.gridSize() / 2 - fm.stringWidth("predicted") / 2,
                gridBottom + LABEL_SPACE + AXIS_SPACE / 2 + 4);
    }

    /** Draws {@code text} reading upwards, its baseline at {@code x} and its first character at {@code y}. */
    private static void drawVertical(Graphics2D g, String text, int x, int y) {
        AffineTransform saved = g.getTransform();
        g.translate(x, y);
        g.rotate(-Math.PI / 2);
        g.drawString(text, 0, 0);
        g.setTransform(saved);
    }

    /** White at 0, {@link #FULL} blue at 1. */
    static Color shade(double fraction) {
        double f = Math.max(0, Math.min(1, fraction));
        return new Color(mix(255, FULL.getRed(), f), mix(255, FULL.getGreen(), f), mix(255, FULL.getBlue(), f));
    }

    private static int mix(int from, int to, double f) {
        return (int) Math.round(from + (to - from) * f);
    }

    private static double luminance(Color c) {
        return 0.299 * c.getRed() + 0.587 * c.getGreen() + 0.114 * c.getBlue();
    }

    private static String compact(long count) {
        if (count < 1_000_000) {
            return String.format(Locale.ROOT, count < 10_000 ? "%.1fk" : "%.0fk", count / 1e3);
        }
        return String.format(Locale.ROOT, count < 10_000_000 ? "%.1fM" : "%.0fM", count / 1e6);
    }

    /** {@code text}, or its longest prefix that fits {@code maxWidth} pixels followed by an ellipsis. */
    static String fit(String text, FontMetrics fm, int maxWidth) {
        if (fm.stringWidth(text) <= maxWidth) {
            return text;
        }
        String ellipsis = fm.getFont().canDisplay('\u2026') ? "\u2026" : "...";
        int end = text.length();
        while (end > 0 && fm.stringWidth(text.substring(0, end) + ellipsis) > maxWidth) {
            end = text.offsetByCodePoints(end, -1);
        }
        return text.substring(0, end) + ellipsis;
    }
}
