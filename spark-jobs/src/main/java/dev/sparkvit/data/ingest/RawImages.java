package dev.sparkvit.data.ingest;

import dev.sparkvit.data.image.RgbImage;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayDeque;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Image files read the way ingest reads them, for jobs that take a raw folder (prediction): the same listing, the
 * same checks (size limit, header-first pixel limit, minimum size, decodable) and the same resize and centre crop to
 * the stored size. A file that fails is a {@link Read} with a reason, never an exception.
 */
public final class RawImages implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(RawImages.class);

    /** One file: its image at the stored size, or why it was rejected ({@code reason} and {@code detail}). */
    public record Read(String path, RgbImage image, String reason, String detail) {
    }

    /** A file listed under a root: path and length in bytes. */
    public record Listed(String path, long length) implements Serializable {
    }

    private final FileProcessor processor;

    /** With ingest's default limits ({@link IngestSettings#defaults}) and the given stored size. */
    public RawImages(Configuration hadoop, int storedSize) {
        this.processor = new FileProcessor(new HadoopConf(hadoop), IngestSettings.defaults("-", "-")
                .withStoredSize(storedSize), Set.of());
    }

    public Read read(String path, long length) {
        FileProcessor.Outcome o = processor.process(path, length);
        return o.reason() != null ? new Read(path, null, o.reason().label(), o.detail())
                : new Read(path, o.image(), null, null);
    }

    /**
     * Every file under {@code root}, recursively, in path order. Local trees are walked with {@link java.nio.file}
     * ({@code listFiles} builds located statuses whose permissions the local file system loads by forking a
     * {@code stat} process per file, 12 s for 5000 files here): a folder reached a second time through a symbolic
     * link (a link back to an ancestor, a loop) is not walked again, and an entry that is neither a folder nor
     * resolvable (a dangling or self-referencing link) is still listed, with length 0, so that ingest accounts for it
     * (it is quarantined as unreadable). A name whose bytes are not UTF-8 is listed with each such byte as
     * {@code %XX} ({@link LocalNames}), and read back by those bytes. Other file systems (HDFS, S3A) use {@code listFiles}, their efficient
     * recursive listing.
     */
    public static List<Listed> list(Configuration hadoop, String root) throws IOException {
        Path top = new Path(root);
        FileSystem fs = top.getFileSystem(hadoop);
        List<Listed> files = new ArrayList<>();
        if (fs instanceof LocalFileSystem local) {
            listLocal(local, fs.makeQualified(top), files);
        } else {
            RemoteIterator<LocatedFileStatus> it = fs.listFiles(top, true);
            while (it.hasNext()) {
                LocatedFileStatus status = it.next();
                files.add(new Listed(status.getPath().toString(), status.getLen()));
            }
        }
        files.sort(Comparator.comparing(Listed::path));
        return files;
    }

    private static void listLocal(LocalFileSystem fs, Path top, List<Listed> files) throws IOException {
        java.nio.file.Path start = LocalNames.path(fs.pathToFile(top).getPath());
        if (!Files.isDirectory(start)) {
            if (Files.exists(start, LinkOption.NOFOLLOW_LINKS)) {
                files.add(new Listed(top.toString(), length(start)));
                return;
            }
            throw new FileNotFoundException("input " + top + " does not exist");
        }
        Set<java.nio.file.Path> walked = new HashSet<>();
        // each folder as its Hadoop path (text) and its local path from the listing (the name's bytes): a name that
        // is not UTF-8 has no text that the JVM turns back into the same bytes (LocalNames)
        ArrayDeque<Path> pending = new ArrayDeque<>(List.of(top));
        ArrayDeque<java.nio.file.Path> pendingLocal = new ArrayDeque<>(List.of(start));
        while (!pending.isEmpty()) {
            Path dir = pending.pop();
            java.nio.file.Path localDir = pendingLocal.pop();
            if (!walked.add(localDir.toRealPath())) {
                LOG.warn("not listing {} again: it is a symbolic link to a folder already listed", dir);
                continue;
            }
            try (DirectoryStream<java.nio.file.Path> entries = Files.newDirectoryStream(localDir)) {
                for (java.nio.file.Path entry : entries) {
                    String name = LocalNames.name(entry);
                    if (name.startsWith(".") && name.endsWith(".crc")) {
                        continue; // Hadoop's checksum files, hidden as the local file system's own listing does
                    }
                    Path child = new Path(dir, new Path(null, null, name));
                    if (Files.isDirectory(entry)) {
                        pending.push(child);
                        pendingLocal.push(entry);
                    } else {
                        files.add(new Listed(child.toString(), length(entry)));
                    }
                }
            }
        }
    }

    /** The size of a regular file (links followed); 0 for anything else (pipes, sockets, broken links). */
    private static long length(java.nio.file.Path file) {
        try {
            return Files.isRegularFile(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            return 0;
        }
    }
}
