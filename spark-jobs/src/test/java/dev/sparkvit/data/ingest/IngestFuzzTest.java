package dev.sparkvit.data.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.sparkvit.data.image.RejectReason;
import dev.sparkvit.testing.SharedSpark;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded fuzzing of ingestion: over a thousand malformed files made from valid PNG, JPEG, GIF and BMP images (bit
 * flips, truncations, headers declaring huge sizes with valid checksums, valid headers followed by garbage, random
 * bytes, spliced ranges, wrong extensions, zero bytes, text), special entries (symbolic link loops, dangling links,
 * a named pipe, a socket, a folder named like an image, files without read permission, long and non-ASCII names,
 * names and a folder whose bytes are not UTF-8), valid images and exact duplicates, ingested by the real job on
 * local Spark. Every file must be accounted for exactly once (stored, duplicate or quarantined, compared as path
 * sets), every quarantine row must carry a reason, and no file may take longer than ten times the processing of a
 * valid image at the pixel limit.
 *
 * <p>Reproduce or widen: {@code -Dsparkvit.fuzz.seed=N -Dsparkvit.fuzz.files=M} (defaults 20261123 and 1100).
 */
@ExtendWith(SharedSpark.class)
class IngestFuzzTest {
    private static final long SEED = Long.getLong("sparkvit.fuzz.seed", 20261123L);
    private static final int MUTANTS = Integer.getInteger("sparkvit.fuzz.files", 1100);
    /** The fuzz run's limits: 2048 x 2048 pixels, 16 MiB (a noise PNG at the pixel limit is 12.6 MB). */
    private static final int MAX_SIDE = 2048;
    private static final long MAX_PIXELS = (long) MAX_SIDE * MAX_SIDE;
    private static final long MAX_FILE_BYTES = 16L << 20;
    private static final List<String> FORMATS = List.of("png", "jpg", "gif", "bmp");
    private static final String STORED = "stored";
    private static final String DUPLICATE = "duplicate";
    private static final Set<String> KEPT = Set.of(STORED, DUPLICATE);
    private static final Set<String> NOT_KEPT = Arrays.stream(RejectReason.values()).map(RejectReason::label)
            .collect(Collectors.toUnmodifiableSet());

    /** A planted entry: its kind (for the summary) and the outcomes allowed for it (null: any). */
    private record Planted(String kind, Set<String> allowed) {
    }

    private final Map<String, Planted> planted = new LinkedHashMap<>();
    private final List<Path> classes = new ArrayList<>();
    private Random random;
    private int serial;

    @Test
    void everyMalformedFileIsAccountedForOnceWithAReasonAndNoneHangs(@TempDir Path tmp) throws Exception {
        Path input = tmp.toRealPath().resolve("raw");
        plant(input, tmp.toRealPath());
        IngestSettings settings = new IngestSettings(input.toString(), tmp.resolve("dataset").toString(), true, 16, 8,
                MAX_PIXELS, MAX_FILE_BYTES, 2, 0.8, 0.1, false);

        List<RawImages.Listed> listed = FileListing.collect(SharedSpark.session(), input.toString());
        Set<String> listedPaths = new TreeSet<>();
        listed.forEach(l -> assertTrue(listedPaths.add(l.path()), "listed twice: " + l.path()));
        assertSamePaths(planted.keySet(), listedPaths, "the listing holds exactly the planted files");

        perFileLimit(settings, listed, tmp);

        IngestResult result = new IngestJob(settings).execute(SharedSpark.session());

        Map<String, String> outcome = new HashMap<>();
        Map<String, String> details = new HashMap<>();
        for (Row r : table(settings, StoredImageSchema.IMAGES_DIR, "source_path")) {
            record(outcome, r.getString(0), STORED);
        }
        for (Row r : table(settings, StoredImageSchema.DUPLICATES_DIR, "source_path")) {
            record(outcome, r.getString(0), DUPLICATE);
        }
        for (Row r : table(settings, StoredImageSchema.QUARANTINE_DIR, "source_path", "reason", "detail")) {
            assertTrue(r.getString(1) != null && NOT_KEPT.contains(r.getString(1)), "reason of " + r);
            assertTrue(r.getString(2) != null && !r.getString(2).isBlank(), "detail of " + r);
            record(outcome, r.getString(0), r.getString(1));
            details.put(r.getString(0), r.getString(2));
        }
        assertSamePaths(listedPaths, outcome.keySet(), "stored + duplicates + quarantined = listed");
        assertEquals(listed.size(), result.inputFiles());
        assertEquals(listed.size(), result.stored() + result.duplicates() + result.quarantined());

        Map<String, Map<String, Integer>> summary = new TreeMap<>();
        List<String> wrong = new ArrayList<>();
        planted.forEach((path, p) -> {
            String got = outcome.get(path);
            summary.computeIfAbsent(p.kind(), k -> new TreeMap<>()).merge(got, 1, Integer::sum);
            if (p.allowed() != null && !p.allowed().contains(got)) {
                wrong.add(p.kind() + " " + path + ": " + got + " (" + details.get(path) + "), expected one of "
                        + p.allowed());
            }
        });
        System.out.println("ingest fuzz, seed " + SEED + ", " + planted.size() + " files: " + summary);
        assertTrue(wrong.isEmpty(), wrong.size() + " unexpected outcomes:\n" + String.join("\n", wrong));
    }

    private static void assertSamePaths(Set<String> expected, Set<String> actual, String what) {
        Set<String> missing = new TreeSet<>(expected);
        missing.removeAll(actual);
        Set<String> extra = new TreeSet<>(actual);
        extra.removeAll(expected);
        if (!missing.isEmpty() || !extra.isEmpty()) {
            fail(what + ": " + missing.size() + " missing " + missing.stream().limit(10).toList() + ", " + extra.size()
                    + " unexpected " + extra.stream().limit(10).toList());
        }
    }

    private static void record(Map<String, String> outcome, String path, String what) {
        String before = outcome.put(path, what);
        if (before != null) {
            fail(path + " is accounted for twice: " + before + " and " + what);
        }
    }

    private static List<Row> table(IngestSettings settings, String dir, String... columns) {
        org.apache.spark.sql.Dataset<Row> rows = switch (dir) {
            case StoredImageSchema.IMAGES_DIR -> StoredTables.images(settings.output());
            case StoredImageSchema.DUPLICATES_DIR -> StoredTables.duplicates(settings.output());
            default -> StoredTables.quarantine(settings.output());
        };
        return rows.selectExpr(columns).collectAsList();
    }

    /**
     * Processes every listed file the way an executor does, each under a time limit of ten times the processing
     * of a valid noise image at the pixel limit (the slowest legitimate file of this run), and never throwing.
     */
    private static void perFileLimit(IngestSettings settings, List<RawImages.Listed> listed, Path tmp)
            throws Exception {
        FileProcessor processor = new FileProcessor(new HadoopConf(SharedSpark.context().hadoopConfiguration()),
                settings, Set.of());
        Path largest = tmp.resolve("largest.png");
        Files.write(largest, BadFiles.encode(BadFiles.noise(MAX_SIDE, MAX_SIDE, 1), "png"));
        long baseline = Long.MAX_VALUE;
        for (int i = 0; i < 2; i++) {
            long start = System.nanoTime();
            FileProcessor.Outcome o = processor.process("file:" + largest, Files.size(largest));
            baseline = Math.min(baseline, System.nanoTime() - start);
            assertTrue(o.reason() == null, "a valid image at the pixel limit is accepted: " + o.detail());
        }
        long limit = 10 * baseline;
        ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "ingest-fuzz-file");
            t.setDaemon(true);
            return t;
        });
        try {
            for (RawImages.Listed file : listed) {
                Future<FileProcessor.Outcome> done = worker.submit(() -> processor.process(file.path(),
                        file.length()));
                try {
                    done.get(limit, TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    fail(file.path() + " took longer than " + limit / 1_000_000 + " ms (ten times a valid "
                            + MAX_SIDE + "x" + MAX_SIDE + " image)");
                } catch (ExecutionException e) {
                    throw new AssertionError(file.path() + " made the file processor throw", e.getCause());
                }
            }
        } finally {
            worker.shutdownNow();
        }
    }

    // ---- the planted tree ----

    private void plant(Path input, Path tmp) throws IOException {
        random = new Random(SEED);
        for (int c = 0; c < 5; c++) {
            classes.add(Files.createDirectories(input.resolve("class" + c)));
        }
        List<byte[]> bases = new ArrayList<>();
        for (int[] size : new int[][] {{16, 16}, {37, 23}, {64, 48}}) {
            for (String format : FORMATS) {
                bases.add(BadFiles.encode(image(size[0], size[1]), format));
            }
        }
        List<Path> valid = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            String format = FORMATS.get(i % FORMATS.size());
            valid.add(file(randomClass(), "valid", format, validBytes(format), KEPT));
        }
        for (int i = 0; i < 10; i++) {
            Path source = valid.get(random.nextInt(valid.size()));
            file(randomClass(), "duplicate", extension(source), Files.readAllBytes(source), KEPT);
        }
        for (int i = 0; i < MUTANTS; i++) {
            mutant(bases);
        }
        special(input, tmp, valid);
    }

    private void mutant(List<byte[]> bases) throws IOException {
        int which = random.nextInt(bases.size());
        byte[] base = bases.get(which);
        String format = FORMATS.get(which % FORMATS.size());
        Path dir = randomClass();
        switch (random.nextInt(11)) {
            case 0, 1 -> file(dir, "bitflip", format, bitFlips(base), null);
            case 2, 3 -> file(dir, "truncated", format, Arrays.copyOf(base, 1 + random.nextInt(base.length - 1)),
                    null);
            case 4, 5 -> lyingHeader(dir, format, base);
            case 6 -> file(dir, "header+garbage", format, headerThenGarbage(base), null);
            case 7 -> file(dir, "random-bytes", format, randomBytes(1 + random.nextInt(4000)), NOT_KEPT);
            case 8 -> file(dir, "spliced", format, splice(base), null);
            case 9 -> {
                String actual = FORMATS.get(random.nextInt(FORMATS.size()));
                String named = FORMATS.get((FORMATS.indexOf(actual) + 1 + random.nextInt(3)) % FORMATS.size());
                file(dir, "wrong-extension", named, validBytes(actual), KEPT);
            }
            default -> {
                if (random.nextBoolean()) {
                    file(dir, "zero-bytes", format, new byte[0], Set.of(RejectReason.ZERO_BYTES.label()));
                } else {
                    file(dir, "text", format, ("not an image, line " + serial + "\n").repeat(1 + random.nextInt(50))
                            .getBytes(StandardCharsets.UTF_8), Set.of(RejectReason.NOT_AN_IMAGE.label()));
                }
            }
        }
    }

    /** Headers declaring sizes the data cannot hold, checksums kept valid so the decoder believes them. */
    private void lyingHeader(Path dir, String format, byte[] base) throws IOException {
        int[][] sizes = {{100_000, 100_000}, {65_535, 65_535}, {65_500, 2}, {MAX_SIDE, MAX_SIDE},
            {MAX_SIDE - 1, MAX_SIDE - 1}, {4096, 1024}, {1000, 1000}, {0, 0}, {0, 500}};
        int[] size = sizes[random.nextInt(sizes.length)];
        int w = size[0];
        int h = size[1];
        // larger than the data: never an image to keep; above the limit or degenerate: a reason is certain
        Set<String> allowed = NOT_KEPT;
        byte[] bytes = switch (format) {
            case "png" -> BadFiles.pngDeclaring(base, w, h);
            case "jpg" -> BadFiles.jpegDeclaring(base, Math.min(w, 65_535), Math.min(h, 65_535));
            case "gif" -> {
                boolean frameToo = random.nextInt(4) > 0;
                if (!frameToo) {
                    allowed = null; // only the logical screen lies: the frame itself is intact
                }
                yield BadFiles.gifDeclaring(base, Math.min(w, 65_535), Math.min(h, 65_535), frameToo);
            }
            default -> BadFiles.bmpDeclaring(base, w, random.nextBoolean() ? h : -h);
        };
        file(dir, "lying-header-" + format, format, bytes, allowed);
    }

    private void special(Path input, Path tmp, List<Path> valid) throws IOException {
        Path c0 = classes.get(0);
        Files.createSymbolicLink(c0.resolve("loop"), Path.of("..")); // a folder link back to the root
        Files.createSymbolicLink(classes.get(1).resolve("up"), classes.get(1)); // a folder link to itself
        expect(Files.createSymbolicLink(classes.get(2).resolve("self.png"), Path.of("self.png")), "symlink-self",
                Set.of(RejectReason.UNREADABLE.label()));
        expect(Files.createSymbolicLink(classes.get(2).resolve("dangling.png"), tmp.resolve("nowhere.png")),
                "symlink-dangling", Set.of(RejectReason.UNREADABLE.label()));
        expect(Files.createSymbolicLink(classes.get(3).resolve("link-to-valid.png"), valid.get(0)), "symlink-file",
                Set.of(DUPLICATE, STORED));
        Path folder = Files.createDirectories(classes.get(4).resolve("folder.png"));
        file(folder, "inside-folder-named-png", "png", validBytes("png"), KEPT);
        // a folder whose name is not UTF-8: before, it failed the whole ingest (NoSuchFileException from the listing)
        Path latin1 = Files.createDirectories(NonUtf8NamesTest.raw(classes.get(4), "caf%E9"));
        file(latin1, "inside-non-utf8-folder", "png", validBytes("png"), KEPT);
        Path pipe = classes.get(3).resolve("pipe.png");
        if (mkfifo(pipe)) {
            expect(pipe, "named-pipe", Set.of(RejectReason.UNREADABLE.label()));
        }
        Path socket = classes.get(3).resolve("socket.jpg");
        BadFiles.unreadable(socket);
        expect(socket, "socket", Set.of(RejectReason.UNREADABLE.label()));
        for (int i = 0; i < 3; i++) {
            Path locked = child(randomClass(), name("no-permission", "png"));
            Files.write(locked, validBytes("png"));
            Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
            expect(locked, "no-permission", permissionsEnforced(locked) ? Set.of(RejectReason.UNREADABLE.label())
                    : KEPT);
        }
        file(input, "outside-class-folder", "png", validBytes("png"), Set.of(RejectReason.NO_CLASS_FOLDER.label()));
    }

    /** Root reads 0000 files: whether this process is refused, found by trying. */
    private static boolean permissionsEnforced(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            in.read();
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private static boolean mkfifo(Path path) {
        try {
            return new ProcessBuilder("mkfifo", path.toString()).inheritIO().start().waitFor() == 0;
        } catch (IOException e) {
            return false; // no mkfifo here: the case is skipped
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private Path file(Path dir, String kind, String extension, byte[] bytes, Set<String> allowed)
            throws IOException {
        Path path = child(dir, name(kind, extension));
        Files.write(path, bytes);
        return expect(path, kind, allowed);
    }

    private Path expect(Path path, String kind, Set<String> allowed) {
        // as ingest records it: a byte that is not UTF-8 as %XX
        Planted before = planted.put("file:" + LocalNames.text(path), new Planted(kind, allowed));
        assertTrue(before == null, "planted twice: " + path);
        return path;
    }

    /**
     * Mostly plain names; some long (250 bytes), some non-ASCII, some with spaces and URI characters, some with bytes
     * that are not UTF-8 (Latin-1 and cut UTF-8 sequences, written as URI escapes: see {@link #child}).
     */
    private String name(String kind, String extension) {
        String stem = String.format("f%05d_%s", serial++, kind);
        int style = random.nextInt(100);
        if (style < 3) {
            stem = (stem + "_long").concat("x".repeat(250 - stem.length() - 5 - extension.length()));
        } else if (style < 6) {
            stem = stem + "_ünïcødé_日本語_😀";
        } else if (style < 9) {
            stem = stem + " with spaces #1 %41 a:b [x]";
        } else if (style < 12) {
            return RAW + stem + "_caf%E9_%FF%FE_%E6%97" + "." + extension;
        }
        return stem + "." + extension;
    }

    /** Marks a name made of URI escapes for its bytes. */
    private static final String RAW = "raw:";

    /** {@code dir}'s entry {@code name}; a {@link #RAW} name is made from its escaped bytes. */
    private static Path child(Path dir, String name) {
        return name.startsWith(RAW) ? NonUtf8NamesTest.raw(dir, name.substring(RAW.length())) : dir.resolve(name);
    }

    private Path randomClass() {
        return classes.get(random.nextInt(classes.size()));
    }

    private static String extension(Path path) {
        String name = path.getFileName().toString();
        return name.substring(name.lastIndexOf('.') + 1);
    }

    /** A valid image with fresh content, so it is stored (or a duplicate only of an exact copy). */
    private byte[] validBytes(String format) throws IOException {
        return BadFiles.encode(image(8 + random.nextInt(57), 8 + random.nextInt(57)), format);
    }

    /** Noise or a smooth gradient, so the encoders see both incompressible and compressible content. */
    private BufferedImage image(int width, int height) {
        if (random.nextBoolean()) {
            return BadFiles.noise(width, height, random.nextLong());
        }
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int tint = random.nextInt(1 << 24);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, tint ^ ((x * 255 / width) << 16 | (y * 255 / height) << 8));
            }
        }
        return image;
    }

    private byte[] bitFlips(byte[] base) {
        byte[] bytes = base.clone();
        for (int i = 1 + random.nextInt(16); i > 0; i--) {
            int at = random.nextInt(bytes.length);
            bytes[at] ^= (byte) (1 << random.nextInt(8));
        }
        return bytes;
    }

    private byte[] headerThenGarbage(byte[] base) {
        byte[] bytes = randomBytes(base.length);
        int keep = Math.min(base.length, 8 + random.nextInt(120));
        System.arraycopy(base, 0, bytes, 0, keep);
        return bytes;
    }

    /** Deletes or repeats a random range. */
    private byte[] splice(byte[] base) {
        int from = random.nextInt(base.length);
        int length = 1 + random.nextInt(Math.min(256, base.length - from));
        byte[] head = Arrays.copyOf(base, from);
        byte[] rest = Arrays.copyOfRange(base, random.nextBoolean() ? from + length : from - length < 0 ? 0
                : from - length, base.length);
        byte[] out = Arrays.copyOf(head, head.length + rest.length);
        System.arraycopy(rest, 0, out, head.length, rest.length);
        return out;
    }

    private byte[] randomBytes(int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }
}
