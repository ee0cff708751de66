package dev.sparkvit.jobs.inference;

import dev.sparkvit.config.ConfigException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * The dataset a classifier file records (its {@code dataset} metadata), whose manifest gives predict and evaluate
 * the normalisation. A file from elsewhere may record anything, and Hadoop resolves {@code http://} and
 * {@code https://} paths with its read-only HTTP file systems: such a file would make the job fetch URLs of the
 * file author's choosing. No dataset can live there (ingest cannot write to them), so those schemes are refused,
 * and so are {@code ftp://} and {@code sftp://}, which sparkvit does not support as dataset stores either.
 */
public final class RecordedDataset {
    /** Schemes that reach arbitrary hosts and hold no sparkvit dataset. */
    private static final Set<String> FETCHING_SCHEMES = Set.of("http", "https", "ftp", "sftp");

    private RecordedDataset() {
    }

    /**
     * The dataset {@code weights} records, or null when it records none.
     *
     * @throws ConfigException naming the file and the value when the path is unusable or a URL to fetch
     */
    public static String of(ClassifierWeights weights, Path file) {
        String dataset = weights.metadata().get("dataset");
        if (dataset == null) {
            return null;
        }
        String scheme;
        try {
            scheme = new org.apache.hadoop.fs.Path(dataset).toUri().getScheme();
        } catch (IllegalArgumentException e) {
            throw new ConfigException(file + ": metadata dataset = " + dataset + " is not a valid path: "
                    + e.getMessage());
        }
        if (scheme != null && FETCHING_SCHEMES.contains(scheme.toLowerCase(Locale.ROOT))) {
            throw new ConfigException(file + ": metadata dataset = " + dataset + " is a URL to fetch, not a "
                    + "dataset; sparkvit reads datasets from local, hdfs:// or object-store paths only (evaluate "
                    + "takes --dataset)");
        }
        return dataset;
    }
}
