package dev.sparkvit.data.ingest;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * A dataset left between two states: a run killed after its shards (or quarantine, duplicates, class index) were
 * committed but before manifest.json was replaced. Its rows are all there and their class indexes are in
 * classes.json (written first), but the manifest's figures are the previous run's. An incremental run finds that
 * here, under the dataset lock and before it reads anything new, and the manifest it writes at its end is recomputed
 * from the stored rows, which repairs it. Rows whose class index names no class, or another class, are damage no
 * rewrite of the manifest can repair ({@link ClassIndexCheck}): the run stops with one line.
 */
final class DatasetRepair {
    private DatasetRepair() {
    }

    /**
     * What does not match between the stored tables and the manifest, or null when nothing. Reads the image table's
     * label columns (one Spark job) and counts the quarantine and duplicate tables.
     *
     * @throws IllegalArgumentException when rows name a class that classes.json does not give them
     */
    static String inspect(SparkSession spark, DatasetFiles dataset, String name, List<String> classes)
            throws IOException {
        List<ClassIndexCheck.Pair> pairs = List.of();
        if (dataset.exists(StoredImageSchema.IMAGES_DIR)) {
            Dataset<Row> images = spark.read().schema(StoredImageSchema.IMAGES)
                    .parquet(dataset.resolve(StoredImageSchema.IMAGES_DIR).toString());
            pairs = ClassIndexCheck.pairs(images);
        }
        String problem = ClassIndexCheck.problem(classes, pairs);
        if (problem != null) {
            throw ClassIndexCheck.damaged(name, problem);
        }
        if (!dataset.exists(StoredImageSchema.MANIFEST_FILE)) {
            return "it had no " + StoredImageSchema.MANIFEST_FILE;
        }
        Manifest manifest = dataset.readManifest();
        Map<String, Long> stored = new TreeMap<>();
        long total = 0;
        for (ClassIndexCheck.Pair p : pairs) {
            stored.merge(p.label() == null ? ManifestBuilder.UNLABELLED : p.label(), p.rows(), Long::sum);
            total += p.rows();
        }
        Map<String, Long> counted = new TreeMap<>();
        if (manifest.counts() != null) {
            manifest.counts().forEach((label, splits) -> counted.put(label, splits.values().stream()
                    .mapToLong(Long::longValue).sum()));
        }
        if (manifest.images() != total || !counted.equals(stored)) {
            return StoredImageSchema.MANIFEST_FILE + " counted " + manifest.images() + " images " + counted
                    + ", the stored rows are " + total + " " + stored;
        }
        if (manifest.labelled() && !classes.equals(manifest.classes())) {
            return StoredImageSchema.MANIFEST_FILE + " lists the classes " + manifest.classes() + ", "
                    + StoredImageSchema.CLASSES_FILE + " " + classes;
        }
        long quarantined = ManifestBuilder.quarantined(spark, dataset).values().stream().mapToLong(Long::longValue)
                .sum();
        long counted0 = manifest.quarantinedByReason() == null ? 0 : manifest.quarantinedByReason().values()
                .stream().mapToLong(Long::longValue).sum();
        if (quarantined != counted0) {
            return StoredImageSchema.MANIFEST_FILE + " counted " + counted0 + " quarantined files, the quarantine "
                    + "table holds " + quarantined;
        }
        long duplicates = ManifestBuilder.duplicates(spark, dataset);
        if (duplicates != manifest.duplicates()) {
            return StoredImageSchema.MANIFEST_FILE + " counted " + manifest.duplicates() + " duplicates, the "
                    + "duplicates table holds " + duplicates;
        }
        return null;
    }
}
