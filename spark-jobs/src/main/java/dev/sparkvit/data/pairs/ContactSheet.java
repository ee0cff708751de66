package dev.sparkvit.data.pairs;

import dev.sparkvit.data.augment.Normalize;
import dev.sparkvit.data.image.FloatImage;
import dev.sparkvit.data.image.RgbImage;
import dev.sparkvit.report.PngFiles;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A PNG a person can look at: one row per image, showing the stored image and its two augmented views side by side,
 * each enlarged by an integer factor (nearest neighbour) so small images stay visible.
 */
public final class ContactSheet {
    private static final int GAP = 4;
    private static final int BACKGROUND = 0xffffff;

    private ContactSheet() {
    }

    /** One row: the original and the two (normalised) views. */
    public record Row(RgbImage original, FloatImage view0, FloatImage view1) {
    }

    public static void write(Path png, List<Row> rows, Normalize normalize, int cell) throws IOException {
        int columns = 3;
        int width = GAP + columns * (cell + GAP);
        int height = GAP + rows.size() * (cell + GAP);
        BufferedImage sheet = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                sheet.setRGB(x, y, BACKGROUND);
            }
        }
        for (int r = 0; r < rows.size(); r++) {
            Row row = rows.get(r);
            RgbImage[] images = {row.original(), normalize.invert(row.view0()).toRgb(),
                    normalize.invert(row.view1()).toRgb()};
            for (int c = 0; c < columns; c++) {
                paste(sheet, images[c], GAP + c * (cell + GAP), GAP + r * (cell + GAP), cell);
            }
        }
        PngFiles.write(sheet, png);
    }

    private static void paste(BufferedImage sheet, RgbImage image, int left, int top, int cell) {
        for (int y = 0; y < cell; y++) {
            for (int x = 0; x < cell; x++) {
                int sx = x * image.width() / cell;
                int sy = y * image.height() / cell;
                int rgb = (image.get(sx, sy, 0) << 16) | (image.get(sx, sy, 1) << 8) | image.get(sx, sy, 2);
                sheet.setRGB(left + x, top + y, rgb);
            }
        }
    }
}
