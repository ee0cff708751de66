package dev.sparkvit.data.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.image.RejectReason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileProcessorTest {
    private static final FileProcessor PROCESSOR = new FileProcessor(new HadoopConf(new Configuration()),
            IngestSettings.defaults("-", "-").withStoredSize(16), Set.of());

    private static FileProcessor.Outcome process(Path file) throws IOException {
        return PROCESSOR.process("file:" + file, Files.isRegularFile(file) ? Files.size(file) : 0);
    }

    @Test
    void aValidImageWhoseNameHoldsAColonIsRead(@TempDir Path tmp) throws IOException {
        // before: the local file system's checksum layer failed on the ".a:b.png.crc" sibling (URISyntaxException)
        Path file = tmp.resolve("shot 12:30 [1] %41.png");
        Files.write(file, BadFiles.encode(BadFiles.noise(20, 20, 1), "png"));
        FileProcessor.Outcome o = process(file);
        assertNull(o.reason(), o.detail());
        assertEquals(16, o.image().width());
    }

    @Test
    void aNamedPipeIsUnreadableInsteadOfBlocking(@TempDir Path tmp) throws Exception {
        Path pipe = tmp.resolve("pipe.png");
        assertEquals(0, new ProcessBuilder("mkfifo", pipe.toString()).inheritIO().start().waitFor());
        // before: opening the pipe blocked the task until something wrote to it, i.e. forever
        FileProcessor.Outcome o = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> process(pipe));
        assertEquals(RejectReason.UNREADABLE, o.reason());
        assertTrue(o.detail().contains("named pipe"), o.detail());
    }

    @Test
    void brokenLinksAreUnreadableWithAReason(@TempDir Path tmp) throws IOException {
        Path dangling = Files.createSymbolicLink(tmp.resolve("dangling.png"), tmp.resolve("nowhere.png"));
        Path self = Files.createSymbolicLink(tmp.resolve("self.png"), Path.of("self.png"));
        for (Path link : new Path[] {dangling, self}) {
            FileProcessor.Outcome o = process(link);
            assertEquals(RejectReason.UNREADABLE, o.reason());
            assertTrue(o.detail().contains("symbolic link"), o.detail());
        }
    }

    private static FileProcessor processor(long maxFileBytes) {
        IngestSettings d = IngestSettings.defaults("-", "-");
        return new FileProcessor(new HadoopConf(new Configuration()), new IngestSettings(d.input(), d.output(), true,
                16, d.minSize(), d.maxPixels(), maxFileBytes, d.shards(), d.trainFraction(), d.valFraction(), false),
                Set.of());
    }

    @Test
    void aFileIsReadWholeWhateverLengthTheListingGaveAndTheLimitStillHolds(@TempDir Path dir) throws IOException {
        new SyntheticImageFolder(24, 1, 3).writeTo(dir);
        Path file = dir.resolve("disc/disc_00000.png");
        long size = Files.size(file);
        String path = file.toUri().toString();
        FileProcessor.Outcome listed = processor(1 << 20).process(path, size);
        assertNull(listed.reason(), listed.detail());
        assertEquals(FileProcessor.sha256(Files.readAllBytes(file)), listed.hash());
        for (long stale : new long[] {0, 10, size - 1, size + 100}) { // the file changed after the listing
            FileProcessor.Outcome o = processor(1 << 20).process(path, stale);
            assertEquals(listed.hash(), o.hash(), "listed as " + stale + " bytes");
            assertNull(o.reason(), o.detail());
        }
        FileProcessor.Outcome grown = processor(size - 1).process(path, 10);
        assertEquals(RejectReason.UNREADABLE, grown.reason());
        assertTrue(grown.detail().contains("grew beyond"), grown.detail());
    }
}
