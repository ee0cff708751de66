package dev.sparkvit.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.storage.AtomicFiles;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/**
 * The ingestion benchmark's input files, shared by sparkvit and the Python reference (bench/python/ingest_ref.py):
 * the embedded dataset's patterns drawn at photo sizes (320x240, 240x320, 400x300, 300x400, 360x360 in turn, with
 * the generator's shading and pixel noise), every other file a JPEG (quality 90) and the rest PNG, in ImageFolder
 * layout under {@code DIR/inputs/<class>/}. {@code DIR/inputs.json} records what was written, so a later run with
 * the same settings reuses the files instead of writing them again.
 */
public final class BenchInputs {
    /** Width and height of the files, in turn. */
    static final int[][] SIZES = {{320, 240}, {240, 320}, {400, 300}, {300, 400}, {360, 360}};
    private static final float JPEG_QUALITY = 0.9f;
    private static final int SEED = 11; // an int, so the description reads back equal from JSON
    private static final ObjectMapper JSON = new ObjectMapper();

    private final int imagesPerClass;

    public BenchInputs(int imagesPerClass) {
        if (imagesPerClass < 1) {
            throw new IllegalArgumentException("images per class must be at least 1, got " + imagesPerClass);
        }
        this.imagesPerClass = imagesPerClass;
    }

    /** Total number of files. */
    public int count() {
        return imagesPerClass * SyntheticImageFolder.CLASSES.size();
    }

    /** The input root under {@code dir}, written unless {@code dir/inputs.json} says it already holds this set. */
    public Path writeOrReuse(Path dir) {
        Path root = dir.resolve("inputs");
        Path marker = dir.resolve("inputs.json");
        Map<String, Object> description = description();
        try {
            if (Files.isRegularFile(marker) && JSON.readValue(marker.toFile(), Map.class).equals(description)) {
                return root;
            }
            deleteTree(root);
            SyntheticImageFolder generator = new SyntheticImageFolder(8, 1, SEED);
            int n = 0;
            for (int c = 0; c < SyntheticImageFolder.CLASSES.size(); c++) {
                String label = SyntheticImageFolder.CLASSES.get(c);
                Path classDir = Files.createDirectories(root.resolve(label));
                for (int i = 0; i < imagesPerClass; i++, n++) {
                    int[] size = SIZES[n % SIZES.length];
                    BufferedImage image = generator.image(c, i, size[0], size[1]);
                    boolean jpeg = n % 2 == 0;
                    Path file = classDir.resolve(String.format("%s_%05d.%s", label, i, jpeg ? "jpg" : "png"));
                    if (jpeg) {
                        writeJpeg(image, file);
                    } else {
                        ImageIO.write(image, "png", file.toFile());
                    }
                }
            }
            byte[] json = JSON.writeValueAsBytes(description);
            AtomicFiles.write(marker, tmp -> Files.write(tmp, json));
            return root;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the benchmark inputs under " + root, e);
        }
    }

    /**
     * {@code dir/inputs-<n>}: hard links to the first {@code perClass} files of each class of the set under
     * {@code dir/inputs} (n = 10 x perClass), made anew; other {@code inputs-<n>} folders are removed first.
     */
    public Path subset(Path dir, int perClass) {
        if (perClass < 1 || perClass >= imagesPerClass) {
            throw new IllegalArgumentException("a subset takes 1 to " + (imagesPerClass - 1) + " files per class, got "
                    + perClass);
        }
        Path root = dir.resolve("inputs");
        Path subset = dir.resolve("inputs-" + perClass * SyntheticImageFolder.CLASSES.size());
        try {
            try (Stream<Path> children = Files.list(dir)) {
                for (Path old : children.filter(p -> p.getFileName().toString().matches("inputs-\\d+")).toList()) {
                    deleteTree(old);
                }
            }
            for (String label : SyntheticImageFolder.CLASSES) {
                Path classDir = Files.createDirectories(subset.resolve(label));
                try (Stream<Path> files = Files.list(root.resolve(label))) {
                    for (Path file : files.sorted().limit(perClass).toList()) {
                        Files.createLink(classDir.resolve(file.getFileName()), file);
                    }
                }
            }
            return subset;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot link the benchmark subset " + subset, e);
        }
    }

    /** What a set is made of; equal descriptions mean identical files. */
    Map<String, Object> description() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("images", count());
        d.put("images_per_class", imagesPerClass);
        d.put("seed", SEED);
        d.put("sizes", "320x240 240x320 400x300 300x400 360x360");
        d.put("formats", "jpeg q90 (even), png (odd)");
        return d;
    }

    private static void writeJpeg(BufferedImage image, Path file) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        try (ImageOutputStream out = ImageIO.createImageOutputStream(file.toFile())) {
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(JPEG_QUALITY);
            writer.setOutput(out);
            writer.write(null, new IIOImage(image, null, null), param);
        } finally {
            writer.dispose();
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
