package dev.sparkvit.data.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A dataset written by someone else is untrusted input (docs/SECURITY.md): its manifest.json and classes.json are
 * read by every job. Hostile ones must be an IOException naming the file, quickly, and a valid one still reads.
 */
class DatasetFilesHostileTest {
    @TempDir
    Path dir;

    private DatasetFiles files() throws IOException {
        return new DatasetFiles(dir.toString(), new Configuration());
    }

    private void rejected(String name, String content, String fragment) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, content, StandardCharsets.UTF_8);
        IOException e = assertThrows(IOException.class, () -> {
            if (name.equals(StoredImageSchema.MANIFEST_FILE)) {
                files().readManifest();
            } else {
                files().readClasses();
            }
        });
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
        Files.delete(file);
    }

    @Test
    void hostileManifestsAndClassIndexesAreErrorsNamingTheFile() throws IOException {
        // Jackson 2.10 parses a long field's 2,000,000 digits as a BigInteger first (quadratic: minutes)
        rejected(StoredImageSchema.MANIFEST_FILE, "{\"images\": " + "9".repeat(2_000_000) + "}", "a number of");
        rejected(StoredImageSchema.CLASSES_FILE, "{\"classes\": [\"a\", " + "9".repeat(2_000_000) + "]}",
                "a number of");
        int depth = 100_000;
        rejected(StoredImageSchema.MANIFEST_FILE, "{\"counts\": " + "[".repeat(depth) + "]".repeat(depth) + "}",
                "nested deeper than");
    }

    @Test
    void aManifestLargerThanAnyRealOneIsRefusedWithoutReadingIt() throws IOException {
        Path file = dir.resolve(StoredImageSchema.MANIFEST_FILE);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(3L << 30); // 3 GiB, sparse: no disk used; reading it whole would need a 3 GiB array
        }
        IOException e = assertThrows(IOException.class, () -> files().readManifest());
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("larger than"),
                e.getMessage());
    }

    @Test
    void aValidClassIndexStillReads() throws IOException {
        files().writeClasses(List.of("cat", "dog"));
        assertEquals(List.of("cat", "dog"), files().readClasses());
    }
}
