package dev.sparkvit.data.ingest;

import dev.sparkvit.data.image.RgbImage;
import java.io.Serializable;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;

/**
 * Image files read the way ingest reads them, for jobs that take a raw folder (prediction): the same listing
 * ({@link FileListing}), the same checks (size limit, header-first pixel limit, minimum size, decodable) and the same
 * resize and centre crop to the stored size. A file that fails is a {@link Read} with a reason, never an exception.
 */
public final class RawImages implements Serializable {
    private static final long serialVersionUID = 1L;

    /** One file: its image at the stored size, or why it was rejected ({@code reason} and {@code detail}). */
    public record Read(String path, RgbImage image, String reason, String detail) {
    }

    /** A file listed under a root: path and length in bytes ({@link FileListing#collect}). */
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
}
