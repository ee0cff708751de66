package dev.sparkvit.data.ingest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sparkvit.storage.AtomicReplace;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The JSON of a dataset: the manifest as the table commits it ({@link #json}, {@link #manifest}), and the class index
 * and manifest files of the folder format (before issue 22; read by {@link DatasetMigration}), read and written
 * through the Hadoop client.
 */
final class DatasetFiles {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** A manifest or class index of 100,000 classes is a few MB; anything larger is not one of ours. */
    private static final long MAX_JSON_BYTES = 64L << 20;

    private final FileSystem fs;
    private final Path root;

    DatasetFiles(String output, Configuration conf) throws IOException {
        Path path = new Path(output);
        this.fs = path.getFileSystem(conf);
        this.root = fs.makeQualified(path);
    }

    /** The dataset's folder, qualified. */
    Path root() {
        return root;
    }

    Path resolve(String child) {
        return new Path(root, child);
    }

    boolean exists(String child) throws IOException {
        return fs.exists(resolve(child));
    }

    /** The class names in index order; empty when the dataset has no class index yet. */
    List<String> readClasses() throws IOException {
        Path file = resolve(StoredImageSchema.CLASSES_FILE);
        if (!fs.exists(file)) {
            return new ArrayList<>();
        }
        try {
            ClassIndexFile index = JSON.readValue(checkedJson(file), ClassIndexFile.class);
            if (index.classes() == null) {
                throw new IOException(file + " has no \"classes\" list");
            }
            return new ArrayList<>(index.classes());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException("class index " + file + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    void writeClasses(List<String> classes) throws IOException {
        writeJson(StoredImageSchema.CLASSES_FILE, new ClassIndexFile(classes));
    }

    void writeManifest(Manifest manifest) throws IOException {
        writeJson(StoredImageSchema.MANIFEST_FILE, manifest);
    }

    /** The manifest as the table commits it (a JSON object). */
    static String json(Manifest manifest) {
        try {
            return new ObjectMapper().writeValueAsString(manifest);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A manifest committed with the table, within the limits of a dataset JSON file. */
    static Manifest manifest(String json) throws IOException {
        byte[] bytes = json.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (bytes.length > MAX_JSON_BYTES) {
            throw new IOException("the manifest is " + bytes.length + " bytes, larger than the " + MAX_JSON_BYTES
                    + " a dataset's manifest can be");
        }
        dev.sparkvit.model.io.JsonLimits.check(bytes);
        return JSON.readValue(bytes, Manifest.class);
    }

    /** Deletes a file or folder of the dataset (recursively); false when it was not there. */
    boolean delete(String child) throws IOException {
        return fs.delete(resolve(child), true);
    }

    Manifest readManifest() throws IOException {
        Path file = resolve(StoredImageSchema.MANIFEST_FILE);
        return JSON.readValue(checkedJson(file), Manifest.class);
    }

    /**
     * The bytes of a dataset JSON file, within size, nesting and number limits: a dataset may come from someone
     * else, and Spark 3.1's Jackson 2.10 has no limits of its own (dev.sparkvit.model.io.JsonLimits).
     *
     * <p>On S3: S3A (Hadoop 3.2) opens an object with a HEAD and reads it with a GET of that many bytes, so when the
     * object is replaced in between (one PUT, {@link AtomicReplace}) the GET returns the new object cut to the old
     * length (found by DatasetOnS3Test). Such a read is not valid JSON: it is read again (up to 5 times, 200 ms
     * apart); a file that stays invalid is reported as it is.
     */
    private byte[] checkedJson(Path file) throws IOException {
        boolean objectStore = dev.sparkvit.storage.Locations.OBJECT_STORE_SCHEMES.contains(root.toUri().getScheme());
        for (int tries = 0; ; tries++) {
            long length = fs.getFileStatus(file).getLen();
            if (length > MAX_JSON_BYTES) {
                throw new IOException(file + " is " + length + " bytes, larger than the " + MAX_JSON_BYTES
                        + " a dataset's JSON file can be");
            }
            byte[] bytes;
            try (InputStream in = fs.open(file)) {
                bytes = in.readAllBytes();
            }
            try {
                dev.sparkvit.model.io.JsonLimits.check(bytes);
                if (objectStore) {
                    JSON.readTree(bytes); // whole, not cut off
                }
            } catch (IOException e) {
                if (objectStore && tries < 5) {
                    sleep(200);
                    continue;
                }
                throw new IOException(file + ": " + e.getMessage(), e);
            }
            return bytes;
        }
    }

    private static void sleep(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted reading a dataset file");
        }
    }

    /**
     * Replaces the file atomically ({@link AtomicReplace}): a reader, or a run killed meanwhile, finds the old file or
     * the new one, never none.
     */
    private void writeJson(String child, Object value) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(value);
        AtomicReplace.write(fs, resolve(child), out -> out.write(bytes));
    }

    /** {@code {"classes": [...]}}: label index i is classes[i]. */
    record ClassIndexFile(@com.fasterxml.jackson.annotation.JsonProperty("classes") List<String> classes) {
    }
}
