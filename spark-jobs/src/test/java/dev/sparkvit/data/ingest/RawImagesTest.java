package dev.sparkvit.data.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RawImagesTest {

    private static List<String> names(Path root) throws IOException {
        String prefix = "file:" + root.toRealPath() + "/";
        return RawImages.list(new Configuration(), root.toRealPath().toString()).stream()
                .map(l -> l.path().substring(prefix.length()) + " " + l.length()).toList();
    }

    @Test
    void aFolderLinkBackToAnAncestorIsNotWalkedAgain(@TempDir Path tmp) throws IOException {
        Path a = Files.createDirectories(tmp.resolve("a"));
        Files.write(a.resolve("x.png"), new byte[] {1, 2, 3});
        Files.createSymbolicLink(a.resolve("loop"), Path.of(".."));
        Files.createSymbolicLink(a.resolve("here"), a);
        // before: a/loop/a/loop/... was walked until the kernel refused the path (40 levels), listing x.png 40 times
        assertEquals(List.of("a/x.png 3"), names(tmp));
    }

    @Test
    void danglingAndSelfLinksAreListedSoIngestAccountsForThem(@TempDir Path tmp) throws IOException {
        Path a = Files.createDirectories(tmp.resolve("a"));
        Files.createSymbolicLink(a.resolve("dangling.png"), tmp.resolve("nowhere.png"));
        Files.createSymbolicLink(a.resolve("self.png"), Path.of("self.png"));
        Files.write(a.resolve("a:b [x] %41.png"), new byte[] {9});
        Files.write(a.resolve(".hidden.png.crc"), new byte[] {9});
        assertEquals(List.of("a/a:b [x] %41.png 1", "a/dangling.png 0", "a/self.png 0"), names(tmp));
    }
}
