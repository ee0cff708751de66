package dev.sparkvit.data;

import dev.sparkvit.report.PngFiles;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Writes the embedded labelled image dataset in ImageFolder layout ({@code root/<class>/<file>.png}): ten classes
 * of shapes and textures drawn with random colours, scale, position, rotation, a shaded background and pixel noise.
 * Deterministic for a seed, and each image depends only on (seed, class, index), so growing the dataset keeps the
 * existing files. It is the demo's input and the source of test fixtures: nothing has to be downloaded.
 */
public final class SyntheticImageFolder {
    /** The ten classes, in label-index order (sorted, as the ingest job indexes them). */
    public static final List<String> CLASSES = List.of("checker", "cross", "disc", "dots", "ring", "square",
            "star", "stripes", "triangle", "waves");

    private final int size;
    private final int imagesPerClass;
    private final long seed;

    /**
     * @param size side of the square images in pixels, at least 8
     * @param imagesPerClass images written for each class, at least 1
     * @param seed seed of every random draw
     */
    public SyntheticImageFolder(int size, int imagesPerClass, long seed) {
        if (size < 8) {
            throw new IllegalArgumentException("image size must be at least 8 pixels, got " + size);
        }
        if (imagesPerClass < 1) {
            throw new IllegalArgumentException("images per class must be at least 1, got " + imagesPerClass);
        }
        this.size = size;
        this.imagesPerClass = imagesPerClass;
        this.seed = seed;
    }

    /**
     * Writes every image under {@code root} and returns the number written. Existing files of the same name are
     * replaced with identical content, so writing twice is harmless.
     */
    public int writeTo(Path root) {
        int written = 0;
        for (int c = 0; c < CLASSES.size(); c++) {
            Path dir = root.resolve(CLASSES.get(c));
            try {
                Files.createDirectories(dir);
                for (int i = 0; i < imagesPerClass; i++) {
                    Random random = new Random(seed * 1_000_003L + c * 100_003L + i);
                    BufferedImage image = draw(CLASSES.get(c), random, size, size);
                    Path file = dir.resolve(String.format("%s_%05d.png", CLASSES.get(c), i));
                    PngFiles.write(image, file);
                    written++;
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write synthetic images under " + dir, e);
            }
        }
        return written;
    }

    /**
     * Image {@code index} of class {@code classIndex} drawn at width x height (the pattern scales with the shorter
     * side), from the same random stream as {@link #writeTo}: at size x size it is the image that writes.
     */
    public BufferedImage image(int classIndex, int index, int width, int height) {
        if (classIndex < 0 || classIndex >= CLASSES.size() || index < 0 || width < 8 || height < 8) {
            throw new IllegalArgumentException("no synthetic image " + index + " of class " + classIndex + " at "
                    + width + "x" + height + ": classes are 0.." + (CLASSES.size() - 1) + ", sides at least 8");
        }
        return draw(CLASSES.get(classIndex), new Random(seed * 1_000_003L + classIndex * 100_003L + index), width,
                height);
    }

    private static BufferedImage draw(String shape, Random random, int width, int height) {
        int[] fg = colour(random);
        int[] bg = colour(random);
        while (Math.abs(luma(fg) - luma(bg)) < 70) {
            bg = colour(random);
        }
        double cx = width * (0.35 + 0.3 * random.nextDouble());
        double cy = height * (0.35 + 0.3 * random.nextDouble());
        double scale = Math.min(width, height) * (0.22 + 0.14 * random.nextDouble()); // radius, texture period
        double angle = random.nextDouble() * Math.PI;
        double cos = Math.cos(angle);
        double sin = Math.sin(angle);
        double shadeX = (random.nextDouble() - 0.5) * 0.4;
        double shadeY = (random.nextDouble() - 0.5) * 0.4;
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                // u, v: pixel centre in the shape's rotated frame, in units of its scale
                double dx = x + 0.5 - cx;
                double dy = y + 0.5 - cy;
                double u = (dx * cos + dy * sin) / scale;
                double v = (-dx * sin + dy * cos) / scale;
                double on = coverage(shape, u, v);
                double shade = 1 + shadeX * (x / (double) width - 0.5) + shadeY * (y / (double) height - 0.5);
                int rgb = 0;
                for (int c = 0; c < 3; c++) {
                    double value = (on * fg[c] + (1 - on) * bg[c] * shade) + random.nextGaussian() * 8;
                    rgb = (rgb << 8) | (int) Math.max(0, Math.min(255, Math.round(value)));
                }
                image.setRGB(x, y, rgb);
            }
        }
        return image;
    }

    /** 1 where the class's pattern covers the point (u, v) of its own frame, 0 elsewhere. */
    private static double coverage(String shape, double u, double v) {
        double r = Math.hypot(u, v);
        return switch (shape) {
            case "disc" -> r < 1 ? 1 : 0;
            case "ring" -> r < 1 && r > 0.6 ? 1 : 0;
            case "square" -> Math.abs(u) < 0.8 && Math.abs(v) < 0.8 ? 1 : 0;
            case "triangle" -> v > -0.6 && v < 0.9 && Math.abs(u) < (0.9 - v) * 0.7 ? 1 : 0;
            case "cross" -> (Math.abs(u) < 0.28 && Math.abs(v) < 1) || (Math.abs(v) < 0.28 && Math.abs(u) < 1) ? 1 : 0;
            case "star" -> r < 0.45 + 0.5 * Math.pow(Math.abs(Math.cos(2.5 * Math.atan2(v, u))), 3) ? 1 : 0;
            case "stripes" -> Math.floorMod((int) Math.floor(u * 2.5), 2) == 0 ? 1 : 0;
            case "checker" -> Math.floorMod((int) Math.floor(u * 2.5) + (int) Math.floor(v * 2.5), 2) == 0 ? 1 : 0;
            case "dots" -> Math.hypot(u * 2.5 - Math.floor(u * 2.5) - 0.5, v * 2.5 - Math.floor(v * 2.5) - 0.5) < 0.28
                    ? 1 : 0;
            case "waves" -> 0.5 + 0.5 * Math.sin(r * 9);
            default -> throw new IllegalStateException("unknown class " + shape);
        };
    }

    private static int[] colour(Random random) {
        return new int[] {random.nextInt(256), random.nextInt(256), random.nextInt(256)};
    }

    /** Rec. 601 brightness; foreground and background differ by at least 70 so every pattern is visible. */
    private static double luma(int[] rgb) {
        return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
    }
}
