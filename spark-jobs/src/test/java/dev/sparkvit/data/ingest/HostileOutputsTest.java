package dev.sparkvit.data.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.testing.SharedSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile outputs and datasets (issue 20, defect 4): an output that is a file, lies under a file, sits on a
 * read-only or a full file system, and a damaged or foreign Parquet shard in a dataset. Each ends in one
 * IllegalArgumentException line naming the path and the cause (exit 2 from the CLI), never a Spark stack trace, and
 * the input is left as it was. The read-only and full file systems are small tmpfs mounts, made only when this
 * process may mount (root); otherwise those cases are skipped and the summary line says so.
 */
@ExtendWith(SharedSpark.class)
class HostileOutputsTest {
    @TempDir
    static Path tmp;
    private static Path input;
    private static final List<Path> MOUNTS = new ArrayList<>();

    @BeforeAll
    static void plant() throws IOException {
        input = tmp.resolve("raw");
        new SyntheticImageFolder(32, 3, 11).writeTo(input);
    }

    @AfterAll
    static void unmount() throws Exception {
        for (Path mount : MOUNTS) {
            new ProcessBuilder("umount", "-l", mount.toString()).inheritIO().start().waitFor();
        }
    }

    /** A tmpfs of {@code options} at a new folder, or null when this process may not mount. */
    private static Path tmpfs(String name, String options) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", options, "tmpfs", dir.toString())
                .redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        if (p.waitFor() != 0) {
            return null;
        }
        MOUNTS.add(dir);
        return dir;
    }

    private static List<String> tree(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.map(p -> root.relativize(p) + ":" + p.toFile().length()).sorted().toList();
        }
    }

    private static IngestSettings into(Path output) {
        return IngestSettings.defaults(input.toString(), output.toString()).withStoredSize(32);
    }

    @Test
    void everyHostileOutputEndsInOneLineNamingItAndTheCause() throws Exception {
        List<String> before = tree(input);
        Path aFile = Files.writeString(tmp.resolve("a-file"), "x");
        Map<String, Path> outputs = new LinkedHashMap<>();
        Map<String, String> causes = new LinkedHashMap<>();
        outputs.put("existing file", aFile);
        causes.put("existing file", "is a file");
        outputs.put("under a file", aFile.resolve("dataset"));
        causes.put("under a file", aFile + " is a file");
        List<String> skipped = new ArrayList<>();
        Path readOnly = tmpfs("ro", "size=64k,ro");
        if (readOnly != null) {
            outputs.put("read-only file system", readOnly.resolve("dataset"));
            causes.put("read-only file system", "read-only file system");
        } else {
            skipped.add("read-only file system (needs root to mount a tmpfs)");
        }
        // 8 KiB: the class index fits, the first Parquet shard does not
        Path full = tmpfs("full", "size=8k");
        if (full != null) {
            outputs.put("full file system", full.resolve("dataset"));
            causes.put("full file system", "No space left on device");
        } else {
            skipped.add("full file system (needs root to mount a tmpfs)");
        }

        Map<String, String> outcomes = new LinkedHashMap<>();
        for (Map.Entry<String, Path> c : outputs.entrySet()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new IngestJob(into(c.getValue())).execute(SharedSpark.session()), c.getKey());
            String message = e.getMessage();
            assertEquals(-1, message.indexOf('\n'), c.getKey() + ": one line: " + message);
            assertTrue(message.contains(c.getValue().toString()), c.getKey() + ": names the path: " + message);
            assertTrue(message.contains(causes.get(c.getKey())), c.getKey() + ": names the cause: " + message);
            outcomes.put(c.getKey(), message);
        }
        assertEquals(before, tree(input), "the input is unchanged");
        System.out.println("hostile outputs: " + outcomes.size() + " refused with one line" + (skipped.isEmpty()
                ? "" : "; skipped: " + String.join(", ", skipped)));
    }

    @Test
    void aDamagedDataFileIsNamedBeforeAnyTaskRunsAndAForeignOneIsNoPartOfTheTable() throws IOException {
        Path dataset = tmp.resolve("dataset");
        new IngestJob(into(dataset)).execute(SharedSpark.session());
        long rows = StoredImages.read(SharedSpark.session(), dataset.toString(), null).count();
        Path shard;
        try (Stream<Path> files = Files.list(dataset.resolve("data"))) {
            shard = files.filter(p -> p.getFileName().toString().endsWith(".parquet")).sorted().findFirst()
                    .orElseThrow();
        }
        byte[] valid = Files.readAllBytes(shard);
        byte[] garbage = new byte[valid.length];
        new Random(5).nextBytes(garbage);
        Map<String, byte[]> damaged = Map.of("random bytes", garbage,
                "cut in half", java.util.Arrays.copyOf(valid, valid.length / 2));
        for (Map.Entry<String, byte[]> d : damaged.entrySet()) {
            Files.write(shard, d.getValue());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> StoredImages.read(SharedSpark.session(), dataset.toString(), "train").count(), d.getKey());
            assertTrue(e.getMessage().contains(shard.getFileName().toString())
                    && e.getMessage().contains("damaged or not Parquet"), d.getKey() + ": " + e.getMessage());
            assertEquals(-1, e.getMessage().indexOf('\n'), e.getMessage());
        }
        Files.write(shard, valid);
        // a Parquet file of another table among the shards
        Path foreign = tmp.resolve("foreign");
        SharedSpark.session().range(3).write().parquet(foreign.toString());
        Path part;
        try (Stream<Path> files = Files.list(foreign)) {
            part = files.filter(p -> p.getFileName().toString().endsWith(".parquet")).findFirst().orElseThrow();
        }
        // before issue 22 it was read as a shard (and refused); the table reads only the files its snapshot lists
        Files.copy(part, dataset.resolve("data").resolve("zz-foreign.parquet"));
        assertEquals(rows, StoredImages.read(SharedSpark.session(), dataset.toString(), null).count());
    }
}
