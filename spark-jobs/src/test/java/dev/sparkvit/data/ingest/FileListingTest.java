package dev.sparkvit.data.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.testing.SharedSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(SharedSpark.class)
class FileListingTest {

    /** The listing with the given threshold, each path relative to the root, with its length. */
    private static List<String> names(Path root, int threshold) throws IOException {
        String prefix = "file:" + root.toRealPath() + "/";
        SparkSession spark = SharedSpark.session();
        spark.conf().set(FileListing.THRESHOLD_KEY, threshold);
        try {
            return FileListing.collect(spark, root.toRealPath().toString()).stream()
                    .map(l -> l.path().substring(prefix.length()) + " " + l.length()).toList();
        } finally {
            spark.conf().unset(FileListing.THRESHOLD_KEY);
        }
    }

    @Test
    void aFolderLinkBackToAnAncestorIsNotWalkedAgain(@TempDir Path tmp) throws IOException {
        Path a = Files.createDirectories(tmp.resolve("a"));
        Files.write(a.resolve("x.png"), new byte[] {1, 2, 3});
        Files.createSymbolicLink(a.resolve("loop"), Path.of(".."));
        Files.createSymbolicLink(a.resolve("here"), a);
        // before: a/loop/a/loop/... was walked until the kernel refused the path (40 levels), listing x.png 40 times
        for (int threshold : new int[] {1, 2, 32}) { // the whole tree walked by one executor; a by one; all shallow
            assertEquals(List.of("a/x.png 3"), names(tmp, threshold), "threshold " + threshold);
        }
    }

    @Test
    void danglingAndSelfLinksAreListedSoIngestAccountsForThem(@TempDir Path tmp) throws IOException {
        Path a = Files.createDirectories(tmp.resolve("a"));
        Files.createSymbolicLink(a.resolve("dangling.png"), tmp.resolve("nowhere.png"));
        Files.createSymbolicLink(a.resolve("self.png"), Path.of("self.png"));
        Files.write(a.resolve("a:b [x] %41.png"), new byte[] {9});
        Files.write(a.resolve(".hidden.png.crc"), new byte[] {9});
        for (int threshold : new int[] {1, 32}) {
            assertEquals(List.of("a/a:b [x] %41.png 1", "a/dangling.png 0", "a/self.png 0"), names(tmp, threshold),
                    "threshold " + threshold);
        }
    }

    @Test
    void aTreeWithMoreFoldersThanTheThresholdIsWalkedByExecutorsInPathOrder(@TempDir Path tmp) throws IOException {
        Path root = tmp.toRealPath().resolve("raw");
        for (int c = 0; c < 3; c++) {
            Path cls = Files.createDirectories(root.resolve("c" + c));
            Files.write(cls.resolve("top" + c + ".png"), new byte[c + 1]);
            for (int s = 0; s < 4; s++) {
                Path sub = Files.createDirectories(cls.resolve("s" + s).resolve("deeper"));
                for (int f = 0; f < 3; f++) {
                    Files.write(sub.getParent().resolve(f + ".png"), new byte[10 * s + f]);
                    Files.write(sub.resolve(f + ".jpg"), new byte[f]);
                }
            }
        }
        Files.write(root.resolve("loose.png"), new byte[7]);
        // a link into another subtree (listed once, under its real path) and a link back to the root (a loop)
        Files.createSymbolicLink(root.resolve("c2/s1/deeper/other"), root.resolve("c0/s3"));
        Files.createSymbolicLink(root.resolve("c1/s0/up"), root);
        // a link nearer the root than its target: reached first by a breadth-first walk, still not followed
        Files.createSymbolicLink(root.resolve("near"), root.resolve("c2/s1/deeper"));
        List<String> expected;
        try (Stream<Path> walk = Files.walk(root)) { // links not followed: every regular file once
            expected = walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).map(p -> {
                try {
                    return root.relativize(p) + " " + Files.size(p);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).sorted().toList();
        }
        assertEquals(3 * (1 + 4 * 6) + 1, expected.size());

        FileListing.Plan plan = FileListing.plan(new org.apache.hadoop.conf.Configuration(), root.toString(), 5,
                FileListing.DRIVER_ENTRIES);
        long handedOut = plan.folders().stream().filter(FileListing.Folder::deep).count();
        assertEquals(6, handedOut, "c1, c2 and the four folders of c0 (not the link): " + plan.folders());
        assertTrue(plan.folders().stream().anyMatch(f -> !f.deep()), "folders the driver expanded: " + plan.folders());

        assertEquals(expected, names(root, 5), "subtrees walked on executors");
        assertEquals(expected, names(root, 1), "the whole tree walked by one executor");
        assertEquals(expected, names(root, 10_000), "every folder expanded by the driver, listed by executors");
    }

    @Test
    void aFolderWithMoreEntriesThanTheDriverReadsIsWalkedByAnExecutor(@TempDir Path tmp) throws IOException {
        Path root = tmp.toRealPath().resolve("flat");
        Files.createDirectories(root.resolve("sub"));
        for (int i = 0; i < 12; i++) {
            Files.write(root.resolve(i + ".png"), new byte[i]);
        }
        Files.write(root.resolve("sub/x.png"), new byte[1]);
        org.apache.hadoop.conf.Configuration conf = new org.apache.hadoop.conf.Configuration();
        // the driver stops reading the root after 5 of its 13 entries: the root is handed out whole
        assertEquals(List.of(new FileListing.Folder("file:" + root, true)),
                FileListing.plan(conf, root.toString(), 32, 5).folders());
        // with room, the driver reads the root and hands out both folders' own files
        assertEquals(List.of(new FileListing.Folder("file:" + root, false),
                new FileListing.Folder("file:" + root + "/sub", false)),
                FileListing.plan(conf, root.toString(), 32, 100).folders());
        assertEquals(13, names(root, 32).size());
    }
}
