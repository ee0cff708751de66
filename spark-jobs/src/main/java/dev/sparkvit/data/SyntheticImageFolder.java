package dev.sparkvit.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;

/**
 * Writes a small labelled image dataset in ImageFolder layout ({@code root/<class>/<file>.png}): procedurally drawn
 * RGB images of four visually distinct classes with random colours, geometry and noise. Deterministic for a seed.
 * It is the embedded default dataset of the demo and the source of test fixtures, so nothing has to be downloaded.
 */
public final class SyntheticImageFolder {
    /** The four classes, in label-index order. */
    public static final List<String> CLASSES = List.of("checker", "disc", "horizontal", "vertical");

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
                    // One stream per image: adding classes or images never changes the existing ones.
                    Random random = new Random(seed * 1_000_003L + c * 100_003L + i);
                    BufferedImage image = draw(c, random);
                    Path file = dir.resolve(String.format("%s_%05d.png", CLASSES.get(c), i));
                    Path tmp = dir.resolve("." + file.getFileName() + ".tmp");
                    ImageIO.write(image, "png", tmp.toFile());
                    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                    written++;
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write synthetic images under " + dir, e);
            }
        }
        return written;
    }

    private BufferedImage draw(int classIndex, Random random) {
        int[] fg = randomColour(random);
        int[] bg = randomColour(random);
        while (Math.abs(luma(fg) - luma(bg)) < 60) {
            bg = randomColour(random);
        }
        int period = 3 + random.nextInt(Math.max(2, size / 6));
        int phase = random.nextInt(period * 2);
        double cx = size * (0.3 + 0.4 * random.nextDouble());
        double cy = size * (0.3 + 0.4 * random.nextDouble());
        double radius = size * (0.2 + 0.15 * random.nextDouble());
        BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                boolean on = switch (CLASSES.get(classIndex)) {
                    case "checker" -> (((x + phase) / period) + ((y + phase) / period)) % 2 == 0;
                    case "disc" -> Math.hypot(x - cx, y - cy) < radius;
                    case "horizontal" -> ((y + phase) / period) % 2 == 0;
                    case "vertical" -> ((x + phase) / period) % 2 == 0;
                    default -> throw new IllegalStateException("unknown class " + classIndex);
                };
                int[] colour = on ? fg : bg;
                int r = noisy(colour[0], random);
                int g = noisy(colour[1], random);
                int b = noisy(colour[2], random);
                image.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return image;
    }

    private static int[] randomColour(Random random) {
        return new int[] {random.nextInt(256), random.nextInt(256), random.nextInt(256)};
    }

    /** Rec. 601 brightness; foreground and background differ by at least 60 so every pattern is visible. */
    private static double luma(int[] rgb) {
        return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
    }

    private static int noisy(int value, Random random) {
        return Math.max(0, Math.min(255, value + (int) Math.round(random.nextGaussian() * 12)));
    }
}
