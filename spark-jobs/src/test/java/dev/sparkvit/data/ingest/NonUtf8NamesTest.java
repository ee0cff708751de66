package dev.sparkvit.data.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.testing.SharedSpark;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * File and folder names whose bytes are not UTF-8 (issue 20, defect 3): {@code caf\xe9} written by a Latin-1 system.
 * Before, one such folder failed the whole ingest (and predict) with a NoSuchFileException from the listing, exit 1,
 * and such a file name was recorded with U+FFFD in place of its bytes, so a prediction did not lead back to its
 * file. Now every such file is read by its bytes and recorded losslessly: each byte that is not UTF-8 as {@code %XX}.
 */
@ExtendWith(SharedSpark.class)
class NonUtf8NamesTest {

    /** A path below {@code dir} named by raw bytes, written as URI escapes ({@code caf%E9}). */
    static Path raw(Path dir, String escaped) {
        return Path.of(URI.create(dir.toUri().toString().replaceAll("/?$", "/") + escaped));
    }

    private static Path plant(Path input) throws IOException {
        new SyntheticImageFolder(16, 2, 7).writeTo(input);
        Path latin1 = Files.createDirectories(raw(input, "caf%E9"));
        Files.write(latin1.resolve("a.png"), BadFiles.encode(BadFiles.noise(20, 20, 1), "png"));
        Files.write(raw(latin1, "b%FF.png"), BadFiles.encode(BadFiles.noise(20, 20, 2), "png"));
        // a UTF-8 name that reads like an escape, beside the byte it would stand for: both must stay apart
        Files.write(input.resolve("disc").resolve("x%E9.png"), BadFiles.encode(BadFiles.noise(20, 20, 3), "png"));
        Files.write(raw(input.resolve("disc"), "x%E9.png"), BadFiles.encode(BadFiles.noise(20, 20, 4), "png"));
        return latin1;
    }

    @Test
    void aFolderAndFilesWithNonUtf8NamesAreIngestedAndRecordedSoEachPathLeadsBackToItsFile(@TempDir Path tmp)
            throws IOException {
        Path input = tmp.toRealPath().resolve("raw");
        plant(input);
        Path output = tmp.resolve("dataset");
        IngestSettings settings = IngestSettings.defaults(input.toString(), output.toString()).withStoredSize(16);

        IngestResult result = new IngestJob(settings).execute(SharedSpark.session());

        assertEquals(0, result.quarantined(), "nothing quarantined: " + result.rejectsByReason());
        Map<String, String> stored = new TreeMap<>();
        for (Row r : StoredTables.images(output)
                .select("source_path", "hash", "label").collectAsList()) {
            stored.put(r.getString(0), r.getString(1) + " " + r.getString(2));
        }
        String root = "file:" + input + "/";
        assertEquals(result.inputFiles(), stored.size(), "every file stored under its own path: " + stored.keySet());
        assertTrue(stored.containsKey(root + "caf%E9/a.png"), stored.keySet().toString());
        assertTrue(stored.containsKey(root + "caf%E9/b%FF.png"), stored.keySet().toString());
        assertTrue(stored.containsKey(root + "disc/x%E9.png"), stored.keySet().toString());
        assertTrue(stored.containsKey(root + "disc/x%25E9.png"), "the UTF-8 name x%E9.png: " + stored.keySet());
        assertTrue(stored.get(root + "caf%E9/a.png").endsWith(" caf%E9"), "the class is the folder's escaped name");
        // each recorded path opens the very file it names
        for (Map.Entry<String, String> e : stored.entrySet()) {
            Path file = LocalNames.path(e.getKey().substring("file:".length()));
            assertEquals(FileProcessor.sha256(Files.readAllBytes(file)), e.getValue().split(" ")[0], e.getKey());
        }
    }

    @Test
    void namesReadAsBeforeUnlessTheirBytesAreNotUtf8OrTheyHoldWhatReadsAsAnEscape() {
        Map<String, String> cases = new TreeMap<>(Map.of(
                "plain.png", "plain.png", "100%.png", "100%.png", "a %41 [x].png", "a %41 [x].png",
                "ünï日本😀.png", "ünï日本😀.png", "x%E9.png", "x%25E9.png", "%25.png", "%2525.png"));
        cases.forEach((name, text) -> assertEquals(text,
                LocalNames.text(name.getBytes(java.nio.charset.StandardCharsets.UTF_8)), name));
        assertEquals("caf%E9", LocalNames.text(new byte[] {'c', 'a', 'f', (byte) 0xe9}));
        // a truncated sequence, an overlong '/', a UTF-16 surrogate: each byte escaped
        assertEquals("%E6%97.%C0%AF.%ED%A0%80", LocalNames.text(new byte[] {(byte) 0xe6, (byte) 0x97, '.',
                (byte) 0xc0, (byte) 0xaf, '.', (byte) 0xed, (byte) 0xa0, (byte) 0x80}));
    }

    @Test
    void predictsListingReadsNonUtf8NamesByTheirBytes(@TempDir Path tmp) throws IOException {
        Path input = tmp.toRealPath().resolve("raw");
        plant(input);
        RawImages reader = new RawImages(new Configuration(), 16);
        int read = 0;
        for (RawImages.Listed file : FileListing.collect(SharedSpark.session(), input.toString())) {
            RawImages.Read r = reader.read(file.path(), file.length());
            assertNull(r.reason(), file.path() + ": " + r.detail());
            read++;
        }
        assertEquals(2 * SyntheticImageFolder.CLASSES.size() + 4, read);
    }
}
