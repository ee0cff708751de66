package dev.sparkvit.storage;

import java.io.IOException;
import java.io.OutputStream;
import java.util.UUID;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;

/**
 * Replaces a small file on a Hadoop file system so that a reader sees the old content or the new, and the file is
 * never missing: the content goes to a temporary file in the same folder, which is then renamed over the target in
 * one step. Locally that is {@code rename(2)} ({@link AtomicFiles}: {@code Files.move} with {@code ATOMIC_MOVE});
 * elsewhere {@link FileContext#rename} with {@link Options.Rename#OVERWRITE}, one NameNode operation on HDFS. Never
 * a delete followed by a rename, which left a moment without the file (and no file at all after a kill between them).
 *
 * <p>On S3 (s3a://, {@link Locations#OBJECT_STORE_SCHEMES}) a rename is a copy and a delete, not
 * atomic; but one PUT replaces an object atomically (a reader sees the old object or the new one, never none, and
 * S3 is strongly consistent). There the content is built in memory first, then written with {@code create(target,
 * overwrite=true)}, which S3A sends as one PUT on close: no temporary file, and a content that fails to build writes
 * nothing. Only datasets are written there; the registry is refused on object stores
 * (the lock package's FolderLock.checkLocation).
 */
public final class AtomicReplace {
    private AtomicReplace() {
    }

    /** Writes a file's content to the stream it is given. */
    @FunctionalInterface
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    /** Replaces (or creates) {@code target} with {@code content}, atomically. */
    public static void write(FileSystem fs, Path target, Content content) throws IOException {
        Path qualified = fs.makeQualified(target);
        if ("file".equals(qualified.toUri().getScheme())) {
            AtomicFiles.write(java.nio.file.Path.of(qualified.toUri().getPath()), tmp -> {
                try (OutputStream out = java.nio.file.Files.newOutputStream(tmp,
                        java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
                    content.writeTo(out);
                }
            });
            return;
        }
        if (Locations.OBJECT_STORE_SCHEMES.contains(qualified.toUri().getScheme())) {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            content.writeTo(bytes);
            try (OutputStream out = fs.create(qualified, true)) { // one PUT, on close
                bytes.writeTo(out);
            }
            return;
        }
        Path tmp = new Path(qualified.getParent(), "." + qualified.getName() + "." + UUID.randomUUID() + ".tmp");
        try {
            try (OutputStream out = fs.create(tmp, false)) {
                content.writeTo(out);
            }
            FileContext.getFileContext(fs.getUri(), fs.getConf()).rename(tmp, qualified, Options.Rename.OVERWRITE);
        } finally {
            fs.delete(tmp, false);
        }
    }
}
