package dev.sparkvit.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A PNG of one or more panels of line series (x, y), drawn with Java2D: axes with min/max labels, one colour per
 * series and a legend. Enough for training curves; no charting dependency.
 */
public final class LineChart {
    private static final Color[] COLOURS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
            new Color(0xff7f0e), new Color(0x9467bd)};
    private static final int PANEL_W = 520;
    private static final int PANEL_H = 320;

    /** A named series of points. */
    public record Series(String name, double[] x, double[] y) {
        public Series {
            if (x.length != y.length) {
                throw new IllegalArgumentException("series " + name + " has " + x.length + " x and " + y.length
                        + " y values");
            }
        }
    }

    /** A panel: title, axis labels, its series, and a fixed y range (NaN: fitted to the data). */
    public record Panel(String title, String xLabel, String yLabel, List<Series> series, double yMin, double yMax) {
    }

    private final List<Panel> panels = new ArrayList<>();

    public LineChart panel(String title, String xLabel, String yLabel, List<Series> series) {
        return panel(title, xLabel, yLabel, series, Double.NaN, Double.NaN);
    }

    /** A panel whose y axis spans {@code [yMin, yMax]} whatever the data (for accuracies, [0, 1]). */
    public LineChart panel(String title, String xLabel, String yLabel, List<Series> series, double yMin,
            double yMax) {
        panels.add(new Panel(title, xLabel, yLabel, List.copyOf(series), yMin, yMax));
        return this;
    }

    /** Writes the panels side by side to {@code file} (atomically). */
    public void write(Path file) {
        if (panels.isEmpty()) {
            throw new IllegalStateException("a chart needs at least one panel");
        }
        BufferedImage image = new BufferedImage(PANEL_W * panels.size(), PANEL_H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, image.getWidth(), image.getHeight());
        for (int i = 0; i < panels.size(); i++) {
            draw(g, panels.get(i), i * PANEL_W);
        }
        g.dispose();
        try {
            PngFiles.write(image, file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write chart " + file, e);
        }
    }

    private static void draw(Graphics2D g, Panel panel, int left) {
        int x0 = left + 60;
        int y0 = PANEL_H - 45;
        int w = PANEL_W - 85;
        int h = PANEL_H - 85;
        double minX = Double.POSITIVE_INFINITY;
        double maxX = Double.NEGATIVE_INFINITY;
        double minY = Double.POSITIVE_INFINITY;
        double maxY = Double.NEGATIVE_INFINITY;
        for (Series s : panel.series()) {
            for (int i = 0; i < s.x().length; i++) {
                if (Double.isFinite(s.y()[i])) {
                    minX = Math.min(minX, s.x()[i]);
                    maxX = Math.max(maxX, s.x()[i]);
                    minY = Math.min(minY, s.y()[i]);
                    maxY = Math.max(maxY, s.y()[i]);
                }
            }
        }
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.setColor(Color.BLACK);
        g.drawString(panel.title(), x0, 22);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.drawLine(x0, y0, x0 + w, y0);
        g.drawLine(x0, y0, x0, y0 - h);
        g.drawString(panel.xLabel(), x0 + w / 2 - 20, PANEL_H - 10);
        g.drawString(panel.yLabel(), left + 4, 40);
        if (minX > maxX) {
            g.drawString("no data", x0 + w / 2 - 20, y0 - h / 2);
            return;
        }
        if (maxX == minX) {
            maxX = minX + 1;
        }
        if (!Double.isNaN(panel.yMin())) {
            minY = panel.yMin();
            maxY = panel.yMax();
        }
        if (maxY == minY) {
            maxY = minY + Math.max(1e-9, Math.abs(minY) * 0.1);
        }
        g.drawString(format(minX), x0 - 5, y0 + 15);
        g.drawString(format(maxX), x0 + w - 20, y0 + 15);
        g.drawString(format(minY), left + 4, y0);
        g.drawString(format(maxY), left + 4, y0 - h + 10);
        g.setStroke(new BasicStroke(1.8f));
        for (int k = 0; k < panel.series().size(); k++) {
            Series s = panel.series().get(k);
            g.setColor(COLOURS[k % COLOURS.length]);
            int prevX = -1;
            int prevY = -1;
            for (int i = 0; i < s.x().length; i++) {
                if (!Double.isFinite(s.y()[i])) {
                    continue;
                }
                int px = x0 + (int) Math.round((s.x()[i] - minX) / (maxX - minX) * w);
                int py = y0 - (int) Math.round((s.y()[i] - minY) / (maxY - minY) * h);
                if (prevX >= 0) {
                    g.drawLine(prevX, prevY, px, py);
                }
                g.fillOval(px - 2, py - 2, 5, 5);
                prevX = px;
                prevY = py;
            }
            g.drawString(s.name(), x0 + w - 150, y0 - h + 14 + 14 * k);
        }
    }

    private static String format(double v) {
        return Math.abs(v) >= 100 || v == Math.rint(v) ? String.format("%.0f", v) : String.format("%.3g", v);
    }
}
