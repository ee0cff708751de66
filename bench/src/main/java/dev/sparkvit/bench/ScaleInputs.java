package dev.sparkvit.bench;

import dev.sparkvit.data.SyntheticImageFolder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;

/**
 * The scale benchmark's input, generated on the fly (never committed): {@code files} tiny valid PNGs in nested class
 * folders, {@code root/c<class>/d<folder>/<n>.png}, {@code perFolder} files a folder. Each class has one drawn
 * 16x16 image ({@link SyntheticImageFolder}); every file is that PNG with a {@code tEXt} chunk naming its number
 * after the header, so no two files have the same bytes (none is a duplicate) and each costs one small write.
 */
public final class ScaleInputs {
    private static final int SIDE = 16;
    /** The length of a PNG signature plus its IHDR chunk: where the text chunk goes. */
    private static final int AFTER_HEADER = 8 + 25;

    private ScaleInputs() {
    }

    /**
     * Writes the tree unless {@code root} already holds it (a marker beside it names the parameters it was made
     * with); returns the number of files.
     */
    public static long generate(Path root, long files, int classes, int perFolder) {
        Path marker = root.resolveSibling(root.getFileName() + ".generated");
        String made = files + " files, " + classes + " classes, " + perFolder + " a folder\n";
        try {
            if (Files.exists(marker) && Files.readString(marker).equals(made)) {
                return files;
            }
            Files.deleteIfExists(marker);
            byte[][] templates = new byte[classes][];
            SyntheticImageFolder drawn = new SyntheticImageFolder(SIDE, 1, 7);
            for (int c = 0; c < classes; c++) {
                ByteArrayOutputStream png = new ByteArrayOutputStream();
                ImageIO.write(drawn.image(c % SyntheticImageFolder.CLASSES.size(), c, SIDE, SIDE), "png", png);
                templates[c] = png.toByteArray();
            }
            for (long n = 0; n < files; n++) {
                int c = (int) (n % classes);
                long inClass = n / classes;
                Path folder = root.resolve(String.format("c%03d/d%05d", c, inClass / perFolder));
                if (inClass % perFolder == 0) {
                    Files.createDirectories(folder);
                }
                Files.write(folder.resolve(String.format("%08d.png", n)), numbered(templates[c], n));
            }
            Files.writeString(marker, made);
            return files;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the scale benchmark's files under " + root, e);
        }
    }

    /** A PNG with a {@code tEXt} chunk ({@code n} = the number) inserted after its header. */
    static byte[] numbered(byte[] png, long n) {
        byte[] data = ("n\0" + n).getBytes(StandardCharsets.ISO_8859_1);
        byte[] out = new byte[png.length + 12 + data.length];
        System.arraycopy(png, 0, out, 0, AFTER_HEADER);
        int at = AFTER_HEADER;
        writeInt(out, at, data.length);
        byte[] type = "tEXt".getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(type, 0, out, at + 4, 4);
        System.arraycopy(data, 0, out, at + 8, data.length);
        CRC32 crc = new CRC32();
        crc.update(out, at + 4, 4 + data.length);
        writeInt(out, at + 8 + data.length, (int) crc.getValue());
        System.arraycopy(png, AFTER_HEADER, out, at + 12 + data.length, png.length - AFTER_HEADER);
        return out;
    }

    private static void writeInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }
}
