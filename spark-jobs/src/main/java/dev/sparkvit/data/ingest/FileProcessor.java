package dev.sparkvit.data.ingest;

import dev.sparkvit.data.image.DecodeResult;
import dev.sparkvit.data.image.ImageDecoder;
import dev.sparkvit.data.image.RejectReason;
import dev.sparkvit.data.image.Resampler;
import dev.sparkvit.data.image.RgbImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Set;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;

/**
 * What happens to one listed file on an executor: read through the Hadoop client, hash (SHA-256 of the bytes),
 * skip when the hash is already in the dataset (incremental runs), decode and validate, resize and centre-crop.
 * Never throws for bad input: every failure becomes a {@link Outcome} with a reason.
 */
final class FileProcessor implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The fate of one file; exactly one of image / reason is set unless {@code alreadyPresent}. */
    record Outcome(String path, long length, String hash, RgbImage image, RejectReason reason, String detail,
            boolean alreadyPresent) {
    }

    private final HadoopConf conf;
    private final int storedSize;
    private final int minSize;
    private final long maxPixels;
    private final long maxFileBytes;
    private final Set<String> knownHashes;

    FileProcessor(HadoopConf conf, IngestSettings settings, Set<String> knownHashes) {
        this(conf, settings.storedSize(), settings.minSize(), settings.maxPixels(), settings.maxFileBytes(),
                knownHashes);
    }

    /** Train, val or test from the hash alone, so an image keeps its split in every later run. */
    static String split(String hash, double trainFraction, double valFraction) {
        double u = Long.parseLong(hash.substring(0, 12), 16) / (double) (1L << 48);
        return u < trainFraction ? "train" : u < trainFraction + valFraction ? "val" : "test";
    }

    /** A copy that skips files whose hash is in {@code hashes} (the executor's broadcast copy). */
    FileProcessor withKnownHashes(Set<String> hashes) {
        return new FileProcessor(conf, storedSize, minSize, maxPixels, maxFileBytes, hashes);
    }

    private FileProcessor(HadoopConf conf, int storedSize, int minSize, long maxPixels, long maxFileBytes,
            Set<String> knownHashes) {
        this.conf = conf;
        this.storedSize = storedSize;
        this.minSize = minSize;
        this.maxPixels = maxPixels;
        this.maxFileBytes = maxFileBytes;
        this.knownHashes = knownHashes;
    }

    /** The key under which a file rejected before it could be hashed is remembered. */
    static String pathKey(String path) {
        return "path:" + path;
    }

    /**
     * A rejection decided without hashing the file; reported as already present when an earlier run quarantined
     * the same path, so re-runs do not record it again.
     */
    Outcome reject(String path, long length, RejectReason reason, String detail) {
        boolean seen = knownHashes.contains(pathKey(path));
        return new Outcome(path, length, null, null, seen ? null : reason, seen ? null : detail, seen);
    }

    /**
     * The key an earlier run remembers this file by ({@code IngestJob}'s join against the table): the SHA-256 of its
     * bytes, or {@link #pathKey} when it is rejected before it can be hashed (no class folder, too large,
     * unreadable).
     */
    String key(String path, long length, boolean noClassFolder) {
        if (noClassFolder || length > maxFileBytes) {
            return pathKey(path);
        }
        try {
            return sha256(read(path, length));
        } catch (IOException | RuntimeException e) {
            return pathKey(path);
        }
    }

    Outcome process(String path, long length) {
        if (length > maxFileBytes) {
            return reject(path, length, RejectReason.TOO_LARGE,
                    "file is " + length + " bytes, above the limit of " + maxFileBytes);
        }
        byte[] bytes;
        try {
            bytes = read(path, length);
        } catch (IOException | RuntimeException e) {
            return reject(path, length, RejectReason.UNREADABLE, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        String hash = sha256(bytes);
        if (knownHashes.contains(hash)) {
            return new Outcome(path, length, hash, null, null, null, true);
        }
        DecodeResult decoded = new ImageDecoder(minSize, maxPixels).decode(bytes);
        if (!decoded.accepted()) {
            return new Outcome(path, length, hash, null, decoded.reason(), decoded.detail(), false);
        }
        RgbImage stored = Resampler.shorterSideThenCenterCrop(decoded.image(), storedSize).toRgb();
        return new Outcome(path, length, hash, stored, null, null, false);
    }

    private byte[] read(String path, long length) throws IOException {
        Path p = new Path(path);
        FileSystem fs = p.getFileSystem(conf.get());
        if (fs instanceof LocalFileSystem local) {
            // read directly: the checksum layer of the local file system looks for a ".<name>.crc" sibling and
            // fails on names Hadoop cannot make a path of (a colon: "a:b.png"); a named pipe would block on open
            // by the name's bytes: a name that is not UTF-8 is listed with those bytes as %XX (LocalNames)
            java.nio.file.Path file = LocalNames.path(local.pathToFile(p).getPath());
            if (!Files.isRegularFile(file)) {
                throw new IOException(Files.isSymbolicLink(file) ? "a symbolic link that leads to no file (dangling "
                        + "or a loop)" : Files.exists(file, LinkOption.NOFOLLOW_LINKS)
                        ? "not a regular file (a named pipe, socket or device)" : "the file no longer exists");
            }
            try (InputStream in = Files.newInputStream(file)) {
                return readAtMostLimit(in, length);
            }
        }
        try (InputStream in = fs.open(p)) {
            return readAtMostLimit(in, length);
        }
    }

    /**
     * Reads into an array of the listed length (readNBytes(limit) collects chunks and copies them again), then makes
     * sure nothing follows; a file that changed since the listing is still read whole, up to the limit.
     */
    private byte[] readAtMostLimit(InputStream in, long length) throws IOException {
        int limit = (int) Math.min(maxFileBytes + 1, Integer.MAX_VALUE - 8);
        byte[] bytes = new byte[(int) Math.min(length, limit)];
        int n = in.readNBytes(bytes, 0, bytes.length);
        if (n < bytes.length) {
            return Arrays.copyOf(bytes, n);
        }
        int next = in.read();
        if (next < 0) {
            return bytes;
        }
        ByteArrayOutputStream grown = new ByteArrayOutputStream();
        grown.write(bytes);
        grown.write(next);
        grown.write(in.readNBytes(limit - bytes.length - 1));
        if (grown.size() > maxFileBytes) {
            throw new IOException("file grew beyond the limit of " + maxFileBytes + " bytes while reading");
        }
        return grown.toByteArray();
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
